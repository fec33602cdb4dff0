using System.IO.Compression;
using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// A TensorFlow.js layers model with its weights: <c>model.json</c> (<c>modelTopology</c> + <c>weightsManifest</c>) and
/// the binary shards its manifest names, given as files (multipart) or as a zip. Each manifest group's shards are
/// concatenated in order and hold its weights back to back as little-endian float32 (the converter's and
/// <c>tf.io</c>'s layout). Before any shard is read, every declared shape is counted against the model's parameters
/// and every group's byte count checked against its shards; quantized weights, and dtypes other than float32 and int32
/// (Normalization's count), are refused.
/// Weights are matched to layers by the name before the first <c>/</c> (<c>dense_1/kernel</c>), in manifest order; a layer
/// inside a nested model by the scope naming it (<c>sequential_1/dense/kernel</c>), as tfjs-layers' <c>loadWeights</c>
/// matches names rather than positions.
/// </summary>
public static class TfjsImporter
{
    public static bool IsTfjsZip(byte[] file)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(file, writable: false), ZipArchiveMode.Read);
            return zip.GetEntry(TfjsExporter.ModelEntry) is not null;
        }
        catch (InvalidDataException) { return false; }
    }

    /// <summary>A zip holding model.json and its shards (what the TF.js export writes).</summary>
    public static KerasArchiveImport ImportZip(byte[] file, string path = "model", EngineLimits? limits = null)
    {
        limits ??= new EngineLimits();
        using var zip = new ZipArchive(new MemoryStream(file, writable: false), ZipArchiveMode.Read);
        if (zip.Entries.Count > limits.MaxArchiveEntries)
            throw new SpecException(path, $"the archive has {zip.Entries.Count} entries; at most {limits.MaxArchiveEntries} are read");
        var modelEntry = zip.GetEntry(TfjsExporter.ModelEntry) ?? throw new SpecException(path, "the archive has no model.json");
        byte[] modelJson;
        using (var s = BoundedEntry.Open(modelEntry, limits.MaxArchiveJsonBytes, $"{path}:model.json"))
        using (var ms = new MemoryStream())
        {
            s.CopyTo(ms);
            modelJson = ms.ToArray();
        }
        return Import(modelJson, (name, maxBytes) =>
        {
            var entry = zip.Entries.FirstOrDefault(e => e.FullName == name || Path.GetFileName(e.FullName) == name);
            if (entry is null) return null;
            using var s = BoundedEntry.Open(entry, maxBytes, $"{path}:{name}");
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        }, path, limits);
    }

    /// <summary>model.json and its shard files by name (the manifest's paths, compared by file name).</summary>
    public static KerasArchiveImport Import(byte[] modelJson, IReadOnlyDictionary<string, byte[]> shards, string path = "model", EngineLimits? limits = null) =>
        Import(modelJson, (name, maxBytes) =>
        {
            var bytes = shards.GetValueOrDefault(name) ?? shards.GetValueOrDefault(Path.GetFileName(name));
            if (bytes is not null && bytes.Length > maxBytes) throw new SpecException($"{path}:{name}", $"has {bytes.Length} bytes; the manifest's weights need at most {maxBytes}");
            return bytes;
        }, path, limits ?? new EngineLimits());

    /// <param name="shard">Reads a shard by its manifest path, refusing more than the given bytes; null when absent.</param>
    private static KerasArchiveImport Import(byte[] modelJson, Func<string, long, byte[]?> shard, string path, EngineLimits limits)
    {
        if (modelJson.Length > limits.MaxArchiveJsonBytes)
            throw new SpecException($"{path}:model.json", $"has {modelJson.Length} bytes; at most {limits.MaxArchiveJsonBytes} are accepted");
        JsonElement document;
        try { document = StrictJson.Parse(modelJson).RootElement.Clone(); }
        catch (JsonException e) { throw new SpecException($"{path}:model.json", $"is not valid JSON: {e.Message}"); }
        if (!document.TryGetProperty("modelTopology", out _))
            throw new SpecException($"{path}:model.json", "is not a TensorFlow.js layers model (no modelTopology)");
        var conversion = KerasImporter.Convert(document, path, limits: limits);
        conversion = conversion with { Notes = conversion.Notes.Where(n => !n.Contains("weight shards", StringComparison.Ordinal)).ToArray() };
        if (!document.TryGetProperty("weightsManifest", out var manifest) || manifest.ValueKind != JsonValueKind.Array || manifest.GetArrayLength() == 0)
            return new KerasArchiveImport(conversion with { Notes = [.. conversion.Notes, "model.json has no weightsManifest; training starts from fresh weights"] }, null);

        var errors = new List<SpecError>();
        var model = ModelParser.Parse(JsonSerializer.SerializeToElement(conversion.Model), "model", limits, errors)
            ?? throw new SpecException(conversion.ToKerasPaths(errors));
        var parameters = TrainingPlan.Summarize(model).TotalParameters;
        var groups = new Dictionary<string, List<WeightEntry>>(StringComparer.Ordinal);
        var declared = 0.0;
        var g = 0;
        foreach (var group in manifest.EnumerateArray())
        {
            var at = $"{path}:model.json.weightsManifest[{g++}]";
            if (group.ValueKind != JsonValueKind.Object || !group.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Array
                || !group.TryGetProperty("weights", out var weights) || weights.ValueKind != JsonValueKind.Array)
                throw new SpecException(at, "expected {\"paths\": [...], \"weights\": [...]}");
            var specs = new List<(string Name, long[] Shape, long Offset, bool Integer)>();
            long bytes = 0;
            var w = 0;
            foreach (var spec in weights.EnumerateArray())
            {
                var wat = $"{at}.weights[{w++}]";
                var name = spec.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new SpecException($"{wat}.name", "is required");
                if (spec.TryGetProperty("quantization", out var q) && q.ValueKind != JsonValueKind.Null)
                    throw new SpecException($"{wat}.quantization", "quantized weights are not read; convert without quantization");
                var dtype = spec.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "float32";
                // int32: the converter's dtype for int64 variables (Normalization's count), 4 bytes each.
                if (dtype is not ("float32" or "int32")) throw new SpecException($"{wat}.dtype", $"\"{dtype}\" is not read; layer weights are float32 (int32 for a count)");
                if (!spec.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array || s.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out var v) || v < 0))
                    throw new SpecException($"{wat}.shape", "expected a list of non-negative integers");
                var shape = s.EnumerateArray().Select(x => x.GetInt64()).ToArray();
                var elements = shape.Aggregate(1.0, (p, x) => p * x);
                declared += elements;
                if (declared > 2.0 * parameters + 65_536)
                    throw new SpecException(wat, $"the manifest declares more weight values than this model's {parameters} parameters; not read");
                specs.Add((name, shape, bytes, dtype == "int32"));
                bytes += (long)elements * 4;
            }
            var data = new byte[bytes];
            long filled = 0;
            foreach (var p in paths.EnumerateArray())
            {
                var file = p.GetString() ?? "";
                var content = shard(file, bytes - filled) ?? throw new SpecException($"{path}:{file}", "the manifest names this shard but it was not given");
                content.CopyTo(data, filled);
                filled += content.Length;
            }
            if (filled != bytes)
                throw new SpecException(at, $"its shards hold {filled} bytes; its weights need {bytes} (float32)");
            foreach (var (name, shape, offset, integer) in specs)
            {
                var layer = name.Contains('/') ? name[..name.IndexOf('/')] : name;
                if (!groups.TryGetValue(layer, out var list)) groups[layer] = list = [];
                var count = (int)shape.Aggregate(1L, (a, b) => a * b);
                list.Add(new WeightEntry(name, shape, () => Floats(data, offset, count, integer)));
            }
        }
        return new KerasArchiveImport(conversion,
            KerasArchive.ToEngineWeights(KerasWeights.ReadOrdered(groups, conversion, model, $"{path}:weights", errors, searchAllGroups: true), conversion, model, $"{path}:weights", errors));
    }

    private static float[] Floats(byte[] data, long offset, int count, bool integer)
    {
        var result = new float[count];
        for (var i = 0; i < count; i++)   // little-endian hosts
            result[i] = integer ? BitConverter.ToInt32(data, (int)(offset + 4L * i)) : BitConverter.ToSingle(data, (int)(offset + 4L * i));
        return result;
    }
}
