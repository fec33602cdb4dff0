using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>A layer inside a wrapper's config (Bidirectional's and TimeDistributed's <c>layer</c>): natively
/// <c>{"type": "LSTM", "units": 8}</c>, or as Keras serializes it, <c>{"class_name": "LSTM", "config": {…}}</c>.</summary>
public sealed class NestedLayer : IConfigValue<NestedLayer>
{
    public NestedLayer(Layer layer) => Layer = layer;

    public Layer Layer { get; }

    /// <summary>Keras's per-layer bookkeeping that is not layer config.</summary>
    private static readonly string[] KerasExtras = ["module", "registered_name", "build_config", "batch_input_shape", "batch_shape", "input_shape"];

    public static NestedLayer? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind == JsonValueKind.Object && !value.TryGetProperty("type", out _)
            && value.TryGetProperty("class_name", out var cn) && cn.ValueKind == JsonValueKind.String)
        {
            // Keras form: the type's name beside its config; flatten to the native form.
            var native = new JsonObject { ["type"] = cn.GetString() };
            if (value.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in config.EnumerateObject())
                    native[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            }
            value = JsonSerializer.SerializeToElement(native);
            path = $"{path}.config";
            var layer = LayerRegistry.Parse(value, path, errors, KerasExtras);
            return layer is null ? null : new NestedLayer(layer);
        }
        var parsed = LayerRegistry.Parse(value, path, errors, KerasExtras);
        return parsed is null ? null : new NestedLayer(parsed);
    }

    public object Describe() => new Dictionary<string, object?> { ["type"] = LayerRegistry.NameOf(Layer.GetType()) };
}
