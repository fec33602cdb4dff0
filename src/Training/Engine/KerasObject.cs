using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>
/// One of the forms a Keras object (optimizer, loss, metric, schedule, callback) is written in: a name
/// (<c>"adam"</c>), the native form <c>{"type": "Adam", "learning_rate": 0.01}</c>, or Keras's serialized form
/// <c>{"module": …, "class_name": "Adam", "config": {…}, "registered_name": …}</c> (tf.keras's <c>Custom&gt;</c>
/// prefix is stripped). <see cref="Config"/> is a mutable copy so readers can rename legacy keys before binding;
/// <see cref="ConfigPath"/> is where its keys live in the submitted JSON.
/// </summary>
public sealed record KerasObject(string Type, JsonObject Config, string ConfigPath, bool IsName)
{
    /// <summary>Reads the object's type and config, or adds an error naming the accepted types.</summary>
    public static KerasObject? Read(JsonElement value, string path, string what, IEnumerable<string> accepted, List<SpecError> errors)
    {
        string Accepted() => string.Join(", ", accepted);
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return new KerasObject(StripPrefix(value.GetString()!), [], path, true);
            case JsonValueKind.Object:
                if (value.TryGetProperty("class_name", out var cn) && cn.ValueKind == JsonValueKind.String)
                {
                    var config = value.TryGetProperty("config", out var c) ? c : default;
                    if (config.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
                        return new KerasObject(StripPrefix(cn.GetString()!), [], path, false);
                    if (config.ValueKind == JsonValueKind.String)
                        return new KerasObject(StripPrefix(cn.GetString()!), new JsonObject { ["__value"] = config.GetString() }, ConfigBinder.Join(path, "config"), false);
                    if (config.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new SpecError(ConfigBinder.Join(path, "config"), $"expected an object, got {ConfigBinder.Describe(config)}"));
                        return null;
                    }
                    return new KerasObject(StripPrefix(cn.GetString()!), (JsonObject)JsonNode.Parse(config.GetRawText())!, ConfigBinder.Join(path, "config"), false);
                }
                if (value.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
                {
                    var obj = (JsonObject)JsonNode.Parse(value.GetRawText())!;
                    obj.Remove("type");
                    return new KerasObject(StripPrefix(type.GetString()!), obj, path, false);
                }
                errors.Add(new SpecError(path, $"a {what} object needs \"type\" (or Keras's \"class_name\" and \"config\"); accepted types: {Accepted()}"));
                return null;
            default:
                errors.Add(new SpecError(path, $"expected a {what} name or object, got {ConfigBinder.Describe(value)}; accepted: {Accepted()}"));
                return null;
        }
    }

    /// <summary>The config as a JSON element for <see cref="ConfigBinder"/>.</summary>
    public JsonElement ConfigElement() => JsonSerializer.SerializeToElement(Config);

    /// <summary>Removes <paramref name="key"/> and returns its value (null when absent or null).</summary>
    public JsonNode? Take(string key)
    {
        if (!Config.TryGetPropertyValue(key, out var node)) return null;
        Config.Remove(key);
        return node;
    }

    public static string StripPrefix(string name)
    {
        var i = name.IndexOf('>', StringComparison.Ordinal);
        return i >= 0 ? name[(i + 1)..] : name;
    }
}
