using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Keras;

/// <summary>A <c>.keras</c> archive read in: its model converted to the native format and, when it holds
/// <c>model.weights.h5</c>, its weights as a tensor archive that <see cref="ModelSession.Restore"/> takes (to predict
/// with them directly, or to start a Fit from them).</summary>
public sealed record KerasArchiveImport(KerasConversion Conversion, byte[]? Weights)
{
    /// <summary>The kind of file it came from: <c>.keras</c>, <c>.h5</c> (legacy full model), <c>.weights.h5</c>
    /// (weights beside an architecture) or <c>tfjs</c>.</summary>
    public string Format { get; init; } = ".keras";
}

/// <summary>
/// Keras 3's <c>.keras</c> file (<c>saving_lib</c>): a zip of <c>config.json</c> (the <c>to_json()</c> document),
/// <c>metadata.json</c> (<c>keras_version</c>, <c>date_saved</c>) and <c>model.weights.h5</c>, read with PureHDF.
/// </summary>
public static class KerasArchive
{
    public const string ConfigEntry = "config.json";
    public const string MetadataEntry = "metadata.json";
    public const string WeightsEntry = "model.weights.h5";

    /// <summary>Reads an archive; throws <see cref="SpecException"/> with paths under <paramref name="path"/> (the
    /// config's keys under <c>{path}</c>, weight problems at the layer they belong to).</summary>
    public static KerasArchiveImport Import(byte[] archive, string path = "model", EngineLimits? limits = null)
    {
        limits ??= new EngineLimits();
        ZipArchive zip;
        try { zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read); }
        catch (InvalidDataException) { throw new SpecException(path, "is not a .keras archive (not a zip file)"); }
        using (zip)
        try
        {
            CheckEntries(zip, path, limits);
            var configEntry = zip.GetEntry(ConfigEntry) ?? throw new SpecException(path, $"the archive has no {ConfigEntry}; a .keras file holds config.json, metadata.json and model.weights.h5");
            JsonElement config;
            using (var s = BoundedEntry.Open(configEntry, limits.MaxArchiveJsonBytes, $"{path}:{ConfigEntry}"))
            {
                try { config = StrictJson.Parse(s).RootElement.Clone(); }
                catch (JsonException e) { throw new SpecException($"{path}:{ConfigEntry}", $"is not valid JSON: {e.Message}"); }
            }
            string? version = null;
            if (zip.GetEntry(MetadataEntry) is { } meta)
            {
                using var s = BoundedEntry.Open(meta, limits.MaxArchiveJsonBytes, $"{path}:{MetadataEntry}");
                try
                {
                    var m = StrictJson.Parse(s).RootElement;
                    if (m.TryGetProperty("keras_version", out var v) && v.ValueKind == JsonValueKind.String) version = v.GetString();
                }
                catch (JsonException e) { throw new SpecException($"{path}:{MetadataEntry}", $"is not valid JSON: {e.Message}"); }
            }
            var conversion = KerasImporter.Convert(config, path, version, limits);
            if (zip.GetEntry(WeightsEntry) is not { } weightsEntry)
            {
                if (zip.Entries.Any(e => e.FullName.EndsWith(".npz", StringComparison.Ordinal)))
                    throw new SpecException($"{path}:model.weights.npz", "weights saved as .npz are not read; save the model with the default HDF5 weights");
                return new KerasArchiveImport(conversion with { Notes = [.. conversion.Notes, "the archive holds no weights; training starts from fresh weights"] }, null);
            }
            var errors = new List<SpecError>();
            var model = ModelParser.Parse(JsonSerializer.SerializeToElement(conversion.Model), "model", limits, errors)
                ?? throw new SpecException(conversion.ToKerasPaths(errors));
            // The weights file of this model cannot be larger than its parameters stored as float64, plus HDF5's own
            // structure: checked against the declared size, then enforced while inflating.
            var weightsLimit = TrainingPlan.Summarize(model).TotalParameters * 8 + HdfOverheadBytes;
            using var weightsStream = new MemoryStream();
            using (var s = BoundedEntry.Open(weightsEntry, weightsLimit, $"{path}:{WeightsEntry}")) s.CopyTo(weightsStream);
            return new KerasArchiveImport(conversion, ReadWeights(weightsStream.ToArray(), conversion, model, $"{path}:{WeightsEntry}", errors));
        }
        catch (InvalidDataException e)
        {
            // A directory that opened but an entry that does not inflate (damaged data, an unknown compression
            // method, a wrong CRC): the upload is broken, which is the client's to fix.
            throw new SpecException(path, $"is a damaged zip archive: {e.Message}");
        }
    }

    /// <summary>Room for HDF5's superblock, object headers and B-trees around the weights themselves.</summary>
    private const long HdfOverheadBytes = 16L * 1024 * 1024;

    /// <summary>Before anything is inflated: how many entries, and no archive inside the archive.</summary>
    private static void CheckEntries(ZipArchive zip, string path, EngineLimits limits)
    {
        if (zip.Entries.Count > limits.MaxArchiveEntries)
            throw new SpecException(path, $"the archive has {zip.Entries.Count} entries; a .keras file has at most {limits.MaxArchiveEntries}");
        if (zip.Entries.FirstOrDefault(e => NestedArchive(e.FullName)) is { } nested)
            throw new SpecException($"{path}:{nested.FullName}", "archives inside a .keras archive are not read");
    }

    private static bool NestedArchive(string name) =>
        new[] { ".zip", ".keras", ".gz", ".tar", ".7z", ".bz2", ".xz" }.Any(ext => name.EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    private static byte[] ReadWeights(byte[] h5File, KerasConversion conversion, ModelDefinition model, string path, List<SpecError> errors)
    {
        Dictionary<string, Tensor>? state;
        try
        {
            using var h5 = Hdf5Guard.Open(h5File, path);
            state = h5.Read(root => KerasWeights.Read(root, conversion, model, path, errors));
        }
        catch (Exception e) when (e is not SpecException and not OutOfMemoryException)
        {
            throw new SpecException(path, $"is not a readable HDF5 file: {e.Message}");
        }
        return ToEngineWeights(state, conversion, model, path, errors);
    }

    /// <summary>Converted weights checked against the engine's own (every weight given, with its shape), as the tensor
    /// archive <see cref="ModelSession.Restore"/> takes; the tensors are disposed. Throws <see cref="SpecException"/>.</summary>
    internal static byte[] ToEngineWeights(Dictionary<string, Tensor>? state, KerasConversion conversion, ModelDefinition model, string path, List<SpecError> errors)
    {
        if (state is null) throw new SpecException(errors);
        try
        {
            using var rng = new Generator(0);
            using var module = new GraphModule(model, rng);
            foreach (var (name, target) in module.state_dict())
            {
                var layer = name[..name.IndexOf('.')];
                var at = conversion.Layers.FirstOrDefault(o => o.NativeName == layer)?.Path ?? path;
                if (!state.TryGetValue(name, out var source))
                    errors.Add(new SpecError(at, $"{path} gives no value for the engine's weight {name}"));
                else if (!source.shape.SequenceEqual(target.shape))
                    errors.Add(new SpecError(at, $"{path}: weight {name} has shape [{string.Join(", ", source.shape)}] after conversion; the layer needs [{string.Join(", ", target.shape)}]"));
            }
            if (errors.Count > 0) throw new SpecException(errors);
            return TensorArchive.ToBytes(state.Select(kv => (kv.Key, kv.Value)));
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    /// <summary>Writes a <c>.keras</c> archive: <paramref name="config"/> as config.json, the metadata, and, when
    /// given, variables by HDF5 path (<c>layers/dense/vars/0</c>) in Keras's layouts as model.weights.h5.</summary>
    public static byte[] Create(JsonNode config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)>? variables = null, string kerasVersion = "3.11.3")
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, MetadataEntry, new JsonObject { ["keras_version"] = kerasVersion, ["date_saved"] = DateTime.UtcNow.ToString("yyyy-MM-dd@HH:mm:ss") }.ToJsonString());
            Write(zip, ConfigEntry, config.ToJsonString());
            if (variables is not null)
            {
                var root = new H5File();
                foreach (var (varPath, (data, shape)) in variables)
                {
                    var parts = varPath.Split('/');
                    H5Group group = root;
                    foreach (var part in parts[..^1])
                    {
                        if (!group.TryGetValue(part, out var child)) group[part] = child = new H5Group();
                        group = (H5Group)child;
                    }
                    group[parts[^1]] = new H5Dataset(data, fileDims: shape.Select(d => (ulong)d).ToArray());
                }
                using var h5 = new MemoryStream();
                root.Write(h5);
                var entry = zip.CreateEntry(WeightsEntry);
                using var s = entry.Open();
                h5.Position = 0;
                h5.CopyTo(s);
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// A trained model as Keras 3 writes it with <c>model.save("m.keras")</c>: config.json from
    /// <see cref="KerasExporter"/>, metadata.json (with <paramref name="metadata"/> under <c>training_service</c>: the
    /// run's preprocessing), and model.weights.h5 laid out as <c>saving_lib._save_state</c> walks the model — a
    /// <c>vars</c> group per saveable carrying its <c>name</c> attribute (the model at the root, each layer at
    /// <c>layers/&lt;class in snake case, numbered&gt;</c>, an RNN's cell at <c>cell</c>, Bidirectional's
    /// <c>forward_layer</c>/<c>backward_layer</c>), each holding its variables as datasets <c>0..n</c>.
    /// </summary>
    public static byte[] Export(ModelDefinition model, IReadOnlyDictionary<string, Tensor> state, string name, JsonObject? metadata = null)
    {
        var config = KerasExporter.Export(model, name);
        // The importer computes the weight groups from the document it reads; exporting through it keeps one rule.
        var conversion = KerasImporter.Convert(JsonSerializer.SerializeToElement(config));
        var groups = conversion.Layers.ToDictionary(o => o.NativeName, o => o.WeightsPath, StringComparer.Ordinal);
        var variables = KerasVariables.FromState(model, state);
        var root = new H5File();
        Vars(root, "", name);
        if (!model.IsSequential || model.Inputs.Count != 1)
            // Functional models list their InputLayers first (KerasExporter), so they take the first input_layer names.
            for (var i = 0; i < model.Inputs.Count; i++) Vars(root, i == 0 ? "layers/input_layer" : $"layers/input_layer_{i}", model.Inputs[i].Name);
        foreach (var node in model.Layers)
        {
            var group = groups[node.Name];
            Vars(root, group, node.Name);
            foreach (var (scope, owner) in Scopes(node.Layer)) Vars(root, $"{group}/{scope}", owner);
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var v in variables.Where(v => v.Layer == node.Name))
            {
                var vars = Vars(root, v.Scope.Length == 0 ? group : $"{group}/{v.Scope}", null);
                var i = counts.GetValueOrDefault(v.Scope);
                counts[v.Scope] = i + 1;
                vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Dataset(v);
            }
        }
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var meta = new JsonObject { ["keras_version"] = ExportKerasVersion, ["date_saved"] = DateTime.UtcNow.ToString("yyyy-MM-dd@HH:mm:ss") };
            if (metadata is not null) meta["training_service"] = metadata.DeepClone();
            Write(zip, MetadataEntry, meta.ToJsonString());
            Write(zip, ConfigEntry, config.ToJsonString());
            using var h5 = new MemoryStream();
            root.Write(h5);
            using var s = zip.CreateEntry(WeightsEntry).Open();
            h5.Position = 0;
            h5.CopyTo(s);
        }
        return output.ToArray();
    }

    /// <summary>A variable as saving_lib's <c>H5IOStore</c> writes it (<c>group[key] = numpy value</c>): float32 data in its
    /// shape, and an integer scalar (Normalization's count, dtype "int": int64 under the TensorFlow backend) as an int64
    /// scalar dataset.</summary>
    private static H5Dataset Dataset(KerasVariable v) => v.Dtype == "int64"
        ? v.Shape.Length == 0 ? new H5Dataset((long)v.Data[0]) : new H5Dataset(v.Data.Select(d => (long)d).ToArray(), fileDims: v.Shape.Select(d => (ulong)d).ToArray())
        : new H5Dataset(v.Data, fileDims: v.Shape.Select(d => (ulong)d).ToArray());

    /// <summary>The Keras version an exported archive claims: the config follows Keras 3.x's layout (DTypePolicy dicts).</summary>
    public const string ExportKerasVersion = "3.11.3";

    /// <summary>The saveables nested in a layer, by group path below it, with the names Keras gives them.</summary>
    private static IEnumerable<(string Scope, string Name)> Scopes(Layer layer)
    {
        static string CellName(Layer l) => ModelParser.KerasSnakeCase(LayerRegistry.NameOf(l.GetType())) + "_cell";
        switch (layer)
        {
            case RecurrentConfig:
                yield return ("cell", CellName(layer));
                break;
            case Bidirectional b:
                yield return ("forward_layer", "forward_" + b.Wrapped.Layer.Name);
                yield return ("forward_layer/cell", CellName(b.Wrapped.Layer));
                var back = b.BackwardLayer?.Layer ?? b.Wrapped.Layer;
                yield return ("backward_layer", "backward_" + back.Name);
                yield return ("backward_layer/cell", CellName(back));
                break;
            case MultiHeadAttention:
                foreach (var part in KerasVariables.MultiHeadAttentionParts)
                    yield return ($"_{part}_dense", part == "output" ? "attention_output" : part);
                break;
            case TokenAndPositionEmbedding:
                yield return ("token_embedding", "token_embedding");
                yield return ("position_embedding", "position_embedding");
                break;
            case TimeDistributed t:
                yield return ("layer", t.Wrapped.Layer.Name);
                foreach (var (scope, name) in Scopes(t.Wrapped.Layer)) yield return ($"layer/{scope}", name);
                break;
        }
    }

    /// <summary>The <c>vars</c> group at <paramref name="path"/>, created (with its owner's name) if missing.</summary>
    private static H5Group Vars(H5Group root, string path, string? owner)
    {
        H5Group group = root;
        foreach (var part in (path.Length == 0 ? "vars" : path + "/vars").Split('/'))
        {
            if (!group.TryGetValue(part, out var child)) group[part] = child = new H5Group();
            group = (H5Group)child;
        }
        if (owner is not null) group.Attributes["name"] = owner;
        return group;
    }

    private static void Write(ZipArchive zip, string name, string text)
    {
        using var s = zip.CreateEntry(name).Open();
        using var w = new StreamWriter(s);
        w.Write(text);
    }
}
