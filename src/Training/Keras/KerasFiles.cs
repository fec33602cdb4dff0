using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>One uploaded file: its name as sent (TF.js shards are matched to the manifest by it) and its bytes.</summary>
public sealed record KerasUpload(string Name, byte[] Content);

/// <summary>
/// Every Keras file that carries weights, told apart by content: a <c>.keras</c> archive, a TF.js zip (model.json +
/// shards), a legacy HDF5 full model, a weights-only HDF5 file (Keras 3 <c>.weights.h5</c> or Keras 2
/// <c>save_weights</c>) with <paramref name="architecture"/> beside it, or a TF.js <c>model.json</c> with its shard
/// files. The one entry point the API's convert and run endpoints share.
/// </summary>
public static class KerasFiles
{
    public static KerasArchiveImport Import(IReadOnlyList<KerasUpload> files, JsonElement? architecture, string path, EngineLimits limits)
    {
        if (files.Count == 0) throw new SpecException(path, "no file was given");
        var json = files.Where(f => f.Name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || LooksLikeJson(f.Content)).ToList();
        if (files.Count > 1 || json.Count == 1)
        {
            if (json.Count != 1)
                throw new SpecException(path, "several files were given: send a TF.js model.json with its weight shards (one .json file), or a single .keras, .h5 or zip file");
            if (architecture is not null) throw new SpecException("architecture", "a TF.js model.json carries its architecture; leave 'architecture' out");
            var shards = files.Where(f => f != json[0]).ToDictionary(f => Path.GetFileName(f.Name), f => f.Content, StringComparer.Ordinal);
            return TfjsImporter.Import(json[0].Content, shards, path, limits) with { Format = "tfjs" };
        }
        var file = files[0].Content;
        if (KerasHdf5.IsHdf5(file))
            return architecture is { } a
                ? KerasHdf5.ImportWeights(file, a, "architecture", path, limits) with { Format = ".weights.h5" }
                : KerasHdf5.Import(file, path, limits) with { Format = ".h5" };
        if (architecture is not null)
            throw new SpecException("architecture", "is only read beside a weights-only HDF5 file (.weights.h5 or Keras 2 save_weights)");
        if (TfjsImporter.IsTfjsZip(file)) return TfjsImporter.ImportZip(file, path, limits) with { Format = "tfjs" };
        return KerasArchive.Import(file, path, limits);
    }

    private static bool LooksLikeJson(byte[] content)
    {
        foreach (var b in content)
        {
            if (b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') continue;
            return b == (byte)'{';
        }
        return false;
    }
}
