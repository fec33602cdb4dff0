namespace TrainingService.Training.Datasets;

/// <summary>Finds a dataset's canonical files under <see cref="DatasetOptions.Root"/> (and, for Fashion-MNIST, in
/// Debian's system folder), and says which files to put where when they are missing.</summary>
public static class DatasetLocator
{
    public static LocatedDataset? Locate(DatasetDefinition d, DatasetOptions options)
    {
        if (d.Folder is null) return new LocatedDataset(d, LocatedFormat.Bundled, "", []);
        var folders = new List<string>();
        if (options.Root is not null) folders.Add(Path.Combine(options.Root, d.Folder));
        if (d.Name == "fashion_mnist") folders.AddRange(options.FashionMnistSystemFolders);
        foreach (var folder in folders.Where(Directory.Exists))
        {
            var found = LocateIn(d, folder);
            if (found is not null) return found;
        }
        return null;
    }

    private static LocatedDataset? LocateIn(DatasetDefinition d, string folder)
    {
        switch (d.Name)
        {
            case "mnist" or "fashion_mnist":
            {
                var paths = DatasetCatalog.IdxFiles.Select(f => FirstExisting(folder, f + ".gz", f)).ToArray();
                if (paths.All(p => p is not null)) return new(d, LocatedFormat.Idx, folder, paths!);
                var npz = Path.Combine(folder, "mnist.npz");
                if (d.Name == "mnist" && File.Exists(npz)) return new(d, LocatedFormat.Npz, folder, [npz]);
                return null;
            }
            case "cifar10" or "cifar100":
            {
                var folderLayout = d.Layouts[0].Select(p => Path.Combine(folder, p)).ToArray();
                if (folderLayout.All(File.Exists)) return new(d, LocatedFormat.CifarFolder, folder, folderLayout);
                var tar = Path.Combine(folder, d.Layouts[1][0]);
                return File.Exists(tar) ? new(d, LocatedFormat.CifarTarGz, folder, [tar]) : null;
            }
            case "imdb":
            {
                var index = Path.Combine(folder, "imdb_word_index.json");
                if (!File.Exists(index)) return null;
                var tree = Path.Combine(folder, "aclImdb");
                if (Directory.Exists(Path.Combine(tree, "train")) && Directory.Exists(Path.Combine(tree, "test")))
                    return new(d, LocatedFormat.ImdbTree, folder, [tree, index]);
                var tar = Path.Combine(folder, "aclImdb_v1.tar.gz");
                return File.Exists(tar) ? new(d, LocatedFormat.ImdbTarGz, folder, [tar, index]) : null;
            }
            default:
                return null;
        }
    }

    private static string? FirstExisting(string folder, params string[] names) =>
        names.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    /// <summary>Which files to put where, in words, for a dataset that is not on this machine.</summary>
    public static string Instructions(DatasetDefinition d, DatasetOptions options)
    {
        if (d.Folder is null) return $"'{d.Name}' is bundled with the service and needs no files.";
        var folder = options.Root is null
            ? $"<Datasets:Root>/{d.Folder}/ (Datasets:Root is not configured; set it or the environment variable Datasets__Root)"
            : Path.Combine(options.Root, d.Folder) + "/";
        var layouts = string.Join(" or ", d.Layouts.Select(l => "[" + string.Join(", ", l) + "]"));
        var text = $"Put {layouts} into {folder}";
        if (d.Name == "mnist") text += " (each IDX file gzip'd or raw)";
        if (d.Name == "fashion_mnist") text += " (each IDX file gzip'd or raw), or install Debian's dataset-fashion-mnist package";
        if (d.Downloads.Count > 0)
            text += ". Canonical sources: " + string.Join(", ", d.Downloads.Select(f => $"{f.Url} ({HashName(f.Hash)} {f.Hash})"));
        return text + ".";
    }

    internal static string HashName(string hash) => hash.Length == 64 ? "sha256" : "md5";
}
