using System.Text.Json;
using System.Text.Json.Nodes;
using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Keras;

/// <summary>
/// Keras's HDF5 files: the legacy full model (<c>model.save("m.h5")</c> by Keras 2, tf.keras and Keras 3's legacy
/// writer: root attributes <c>model_config</c>, <c>training_config</c>, <c>keras_version</c> and the group
/// <c>model_weights</c> with one group per layer listing its <c>weight_names</c>), Keras 2's <c>save_weights("w.h5")</c>
/// (those layer groups at the root), and Keras 3's <c>.weights.h5</c> (the layout of a <c>.keras</c> archive's
/// weights). Weights-only files need the architecture beside them. Declared dataset shapes are counted against the
/// model's parameters before anything is read; the model's JSON is bounded as in a <c>.keras</c> archive.
/// </summary>
public static class KerasHdf5
{
    private static readonly byte[] Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];

    public static bool IsHdf5(ReadOnlySpan<byte> file) => file.StartsWith(Signature);

    /// <summary>A legacy full-model file: the model from <c>model_config</c>, the weights from <c>model_weights</c>.</summary>
    public static KerasArchiveImport Import(byte[] file, string path = "model", EngineLimits? limits = null)
    {
        limits ??= new EngineLimits();
        return WithFile(file, path, h5 =>
        {
            if (!h5.AttributeExists("model_config"))
                throw new SpecException(path, "is an HDF5 file without a model_config attribute: a weights file; send the model's architecture with it");
            var document = new JsonObject
            {
                ["model_config"] = Json(h5, "model_config", path, limits),
                ["keras_version"] = h5.AttributeExists("keras_version") ? Text(h5, "keras_version", path) : null,
            };
            if (h5.AttributeExists("training_config")) document["training_config"] = Json(h5, "training_config", path, limits);
            var conversion = KerasImporter.Convert(JsonSerializer.SerializeToElement(document), path, limits: limits);
            if (!h5.LinkExists("model_weights"))
                return new KerasArchiveImport(conversion with { Notes = [.. conversion.Notes, "the file holds no model_weights; training starts from fresh weights"] }, null);
            return new KerasArchiveImport(conversion, ReadLegacy(h5.Group("model_weights"), conversion, $"{path}:model_weights", limits));
        });
    }

    /// <summary>A weights-only file (Keras 3 <c>.weights.h5</c>, Keras 2 <c>save_weights</c>, or a full legacy file)
    /// for the model <paramref name="architecture"/> (a Keras document).</summary>
    public static KerasArchiveImport ImportWeights(byte[] file, JsonElement architecture, string path = "model", string weightsPath = "weights", EngineLimits? limits = null)
    {
        limits ??= new EngineLimits();
        var conversion = KerasImporter.Convert(architecture, path, limits: limits);
        return WithFile(file, weightsPath, h5 =>
        {
            byte[] weights;
            if (h5.LinkExists("layers") || h5.LinkExists("_layer_checkpoint_dependencies"))
            {
                var errors = new List<SpecError>();
                var model = Parse(conversion, limits);
                weights = KerasArchive.ToEngineWeights(KerasWeights.Read(h5, conversion, model, weightsPath, errors), conversion, model, weightsPath, errors);
            }
            else if (h5.LinkExists("model_weights")) weights = ReadLegacy(h5.Group("model_weights"), conversion, $"{weightsPath}:model_weights", limits);
            else if (h5.AttributeExists("layer_names") || h5.AttributeExists("layer_names0")) weights = ReadLegacy(h5, conversion, weightsPath, limits);
            else throw new SpecException(weightsPath, "is an HDF5 file but not Keras weights: no layers group (Keras 3), no layer_names attribute (Keras 2 save_weights) and no model_weights group");
            return new KerasArchiveImport(conversion, weights);
        });
    }

    private static KerasArchiveImport WithFile(byte[] file, string path, Func<IH5Group, KerasArchiveImport> read)
    {
        if (!IsHdf5(file)) throw new SpecException(path, "is not an HDF5 file");
        try
        {
            using var h5 = Hdf5Guard.Open(file, path);
            return h5.Read(read);
        }
        catch (Exception e) when (e is not SpecException and not OutOfMemoryException)
        {
            throw new SpecException(path, $"is not a readable Keras HDF5 file: {e.Message}");
        }
    }

    private static ModelDefinition Parse(KerasConversion conversion, EngineLimits limits)
    {
        var errors = new List<SpecError>();
        return ModelParser.Parse(JsonSerializer.SerializeToElement(conversion.Model), "model", limits, errors)
            ?? throw new SpecException(conversion.ToKerasPaths(errors));
    }

    /// <summary>Layer groups named by layer, each listing its datasets in <c>weight_names</c> (Keras's weight order).</summary>
    private static byte[] ReadLegacy(IH5Group root, KerasConversion conversion, string path, EngineLimits limits)
    {
        var model = Parse(conversion, limits);
        var groups = new Dictionary<string, List<WeightEntry>>(StringComparer.Ordinal);
        foreach (var child in root.Children().OfType<IH5Group>())
        {
            var entries = new List<WeightEntry>();
            var names = StringList(child, "weight_names");
            foreach (var name in names)
            {
                if (!child.LinkExists(name))
                    throw new SpecException($"{path}/{child.Name}", $"lists the weight {name} but holds no such dataset");
                var dataset = child.Dataset(name);
                var shape = dataset.Space.Dimensions.Select(d => (long)d).ToArray();
                entries.Add(new WeightEntry(name, shape, () => ReadFloats(dataset)));
            }
            groups[child.Name] = entries;
        }
        var errors = new List<SpecError>();
        return KerasArchive.ToEngineWeights(KerasWeights.ReadOrdered(groups, conversion, model, path, errors), conversion, model, path, errors);
    }

    /// <summary>A list attribute as Keras's <c>save_attributes_to_hdf5_group</c> writes it: whole, or split into
    /// <c>name0</c>, <c>name1</c>, … when it passes HDF5's 64 KiB attribute limit.</summary>
    private static string[] StringList(IH5Object group, string name)
    {
        if (group.AttributeExists(name)) return group.Attribute(name).Read<string[]>();
        var parts = new List<string>();
        for (var i = 0; group.AttributeExists($"{name}{i}"); i++) parts.AddRange(group.Attribute($"{name}{i}").Read<string[]>());
        return [.. parts];
    }

    /// <summary>A weight's values as float32: float32 or float64 data, or integers (Normalization's <c>count</c>, int64
    /// or int32 by backend).</summary>
    internal static float[] ReadFloats(IH5Dataset dataset) => dataset.Type.Class switch
    {
        H5DataTypeClass.FloatingPoint when dataset.Type.Size == 8 => dataset.Read<double[]>().Select(d => (float)d).ToArray(),
        H5DataTypeClass.FloatingPoint when dataset.Type.Size == 4 => dataset.Read<float[]>(),
        H5DataTypeClass.FloatingPoint => throw new InvalidDataException($"{dataset.Type.Size * 8}-bit floats are not read; save the model in float32"),
        H5DataTypeClass.FixedPoint when dataset.Type.Size == 8 => dataset.Read<long[]>().Select(d => (float)d).ToArray(),
        H5DataTypeClass.FixedPoint when dataset.Type.Size == 4 => dataset.Read<int[]>().Select(d => (float)d).ToArray(),
        _ => throw new InvalidDataException("not floating-point data"),
    };

    private static string Text(IH5Object h5, string attribute, string path)
    {
        var a = h5.Attribute(attribute);
        try { return a.Read<string>(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new SpecException($"{path}:{attribute}", $"is not a string attribute ({e.Message})");
        }
    }

    private static JsonNode? Json(IH5Object h5, string attribute, string path, EngineLimits limits)
    {
        var text = Text(h5, attribute, path);
        if (text.Length > limits.MaxArchiveJsonBytes)
            throw new SpecException($"{path}:{attribute}", $"holds {text.Length} characters; at most {limits.MaxArchiveJsonBytes} are accepted");
        try { return JsonNode.Parse(text); }
        catch (JsonException e) { throw new SpecException($"{path}:{attribute}", $"is not valid JSON: {e.Message}"); }
    }
}
