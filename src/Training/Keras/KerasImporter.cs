using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// Converts a Keras model document into the native model format, so the one native parser validates it:
/// <c>model.to_json()</c> of Keras 2 (standalone, tf.keras, tf-keras; <c>Sequential</c>/<c>Model</c>/<c>Functional</c>,
/// list-form Sequential) and Keras 3 (<c>module</c>/<c>registered_name</c>/<c>build_config</c>, <c>__keras_tensor__</c>
/// nodes), a TF.js <c>model.json</c> (<c>modelTopology</c>), and the <c>config.json</c> of a <c>.keras</c> archive.
/// Nested models are flattened into the outer graph, their layers named <c>{model}_{layer}</c>. Whatever cannot be
/// honoured exactly is refused with its JSON path in the Keras document; approximations are listed as notes.
/// </summary>
public static class KerasImporter
{
    /// <summary>Whether <paramref name="model"/> is a Keras document rather than the native format.</summary>
    public static bool IsKerasDocument(JsonElement model) =>
        model.ValueKind == JsonValueKind.Object
        && (model.TryGetProperty("class_name", out _) || model.TryGetProperty("modelTopology", out _) || model.TryGetProperty("model_config", out _));

    /// <summary>Converts and validates; throws <see cref="SpecException"/> with paths under <paramref name="path"/>.
    /// <paramref name="kerasVersion"/> overrides the document's own (a <c>.keras</c> archive keeps it in metadata.json).</summary>
    public static KerasConversion Convert(JsonElement document, string path = "model", string? kerasVersion = null, EngineLimits? limits = null)
    {
        var converter = new KerasGraphBuilder(path);
        KerasConversion conversion;
        try
        {
            conversion = converter.Run(document, kerasVersion);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            // The converter walks a foreign document shaped as Keras writes it; where a hand-edited or damaged one has
            // another JSON type (a number where a layer object belongs, a string as a node index), System.Text.Json's
            // accessors throw. That is a bad document, not a fault of the service: a 400 rather than a 500. (Found by
            // the fuzz suite, tests/Api.Tests/Fuzz.)
            throw new SpecException(path, $"does not have the structure of a Keras model document: {e.Message}");
        }
        var errors = new List<SpecError>();
        ModelParser.Parse(JsonSerializer.SerializeToElement(conversion.Model), "model", limits ?? new EngineLimits(), errors);
        if (errors.Count > 0) throw new SpecException(conversion.ToKerasPaths(errors));
        return conversion;
    }
}
