using System.Globalization;
using System.IO.Compression;
using TrainingService.Training.Datasets.Formats;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets;

/// <summary>Loads a catalog dataset from its canonical files, downloading it first when it is missing and
/// <see cref="DatasetOptions.AllowDownload"/> is set. Use <see cref="DatasetCache"/> to load each dataset once.</summary>
public sealed class DatasetLoader(DatasetOptions options, HttpClient? http = null)
{
    public DatasetOptions Options => options;

    public async Task<RawDataset> LoadAsync(string name, CancellationToken cancellationToken)
    {
        var d = DatasetCatalog.Find(name)
            ?? throw new DatasetException($"Unknown dataset '{name}'; known: {string.Join(", ", DatasetCatalog.All.Select(x => x.Name))}.");
        var located = DatasetLocator.Locate(d, options);
        if (located is null)
        {
            await DownloadAsync(d, cancellationToken);
            located = DatasetLocator.Locate(d, options)
                ?? throw new DatasetException($"Dataset '{name}' was downloaded but its files are still not found. {DatasetLocator.Instructions(d, options)}");
        }
        cancellationToken.ThrowIfCancellationRequested();
        return await Task.Run(() => Read(located), cancellationToken);
    }

    private async Task DownloadAsync(DatasetDefinition d, CancellationToken cancellationToken)
    {
        var sources = options.Mirrors.TryGetValue(d.Name, out var mirror) ? mirror : d.Downloads;
        if (!options.AllowDownload || options.Root is null || sources.Count == 0 || d.Folder is null)
        {
            var why = !options.AllowDownload ? "downloads are not allowed (Datasets:AllowDownload)"
                : options.Root is null ? "Datasets:Root is not set" : "it has no download source";
            throw new DatasetException($"Dataset '{d.Name}' is not on this machine and {why}. {DatasetLocator.Instructions(d, options)}");
        }
        var folder = Path.Combine(options.Root, d.Folder);
        using var ownClient = http is null ? new HttpClient { Timeout = options.DownloadTimeout } : null;
        var downloader = new FileDownloader(http ?? ownClient!, options.MaxDownloadBytes);
        foreach (var f in sources)
        {
            var target = Path.Combine(folder, f.FileName);
            if (File.Exists(target)) continue;
            try
            {
                await downloader.DownloadAsync(new Uri(f.Url), target, f.Hash, cancellationToken);
            }
            catch (DatasetException e)
            {
                throw new DatasetException($"Dataset '{d.Name}' could not be downloaded: {e.Message} {DatasetLocator.Instructions(d, options)}", e);
            }
        }
    }

    /// <summary>Reads located files (no download). Throws <see cref="DatasetException"/> for corrupt files.</summary>
    public static RawDataset Read(LocatedDataset located)
    {
        var d = located.Definition;
        var source = located.Describe();
        switch (located.Format)
        {
            case LocatedFormat.Bundled:
                return d.Name == "digits" ? BundledDatasets.Digits() : BundledDatasets.Iris();
            case LocatedFormat.Idx:
            {
                var tensors = new List<Tensor>();
                try
                {
                    tensors.Add(IdxReader.ReadImages(located.Paths[0]));
                    tensors.Add(IdxReader.ReadLabels(located.Paths[1]));
                    tensors.Add(IdxReader.ReadImages(located.Paths[2]));
                    tensors.Add(IdxReader.ReadLabels(located.Paths[3]));
                    CheckPair(tensors[0], tensors[1], located.Paths[0], located.Paths[1]);
                    CheckPair(tensors[2], tensors[3], located.Paths[2], located.Paths[3]);
                }
                catch
                {
                    foreach (var t in tensors) t.Dispose();
                    throw;
                }
                return new RawDataset
                {
                    Name = d.Name, Kind = d.Kind, ClassNames = d.ClassNames, Source = source,
                    TrainX = tensors[0], TrainY = tensors[1], TestX = tensors[2], TestY = tensors[3],
                };
            }
            case LocatedFormat.Npz:
            {
                var arrays = NpyReader.ReadNpz(located.Paths[0]);
                string[] keys = ["x_train", "y_train", "x_test", "y_test"];
                var missing = keys.Where(k => !arrays.ContainsKey(k)).ToList();
                if (missing.Count > 0)
                {
                    foreach (var t in arrays.Values) t.Dispose();
                    throw new DatasetException($"{located.Paths[0]}: lacks {string.Join(", ", missing)} (expected x_train, y_train, x_test, y_test).");
                }
                foreach (var extra in arrays.Where(kv => !keys.Contains(kv.Key))) extra.Value.Dispose();
                try
                {
                    CheckPair(arrays["x_train"], arrays["y_train"], "x_train", "y_train");
                    CheckPair(arrays["x_test"], arrays["y_test"], "x_test", "y_test");
                }
                catch
                {
                    foreach (var k in keys) arrays[k].Dispose();
                    throw;
                }
                return new RawDataset
                {
                    Name = d.Name, Kind = d.Kind, ClassNames = d.ClassNames, Source = source,
                    TrainX = arrays["x_train"], TrainY = arrays["y_train"], TestX = arrays["x_test"], TestY = arrays["y_test"],
                };
            }
            case LocatedFormat.CifarFolder or LocatedFormat.CifarTarGz:
                return ReadCifar(located, source);
            case LocatedFormat.ImdbTree or LocatedFormat.ImdbTarGz:
            {
                var ranks = AclImdbReader.ReadWordIndex(located.Paths[1]);
                var (train, test) = located.Format == LocatedFormat.ImdbTree
                    ? AclImdbReader.ReadTree(located.Paths[0], ranks)
                    : AclImdbReader.ReadTarGz(located.Paths[0], ranks);
                return new RawDataset
                {
                    Name = d.Name, Kind = d.Kind, ClassNames = d.ClassNames, Source = source, WordRanks = ranks,
                    TrainSequences = train.Sequences, TrainY = tensor(train.Labels),
                    TestSequences = test.Sequences, TestY = tensor(test.Labels),
                };
            }
            default:
                throw new InvalidOperationException($"Unhandled format {located.Format}.");
        }
    }

    private static RawDataset ReadCifar(LocatedDataset located, string source)
    {
        var d = located.Definition;
        var c100 = d.Name == "cifar100";
        var labelBytes = c100 ? 2 : 1;
        var labelIndex = c100 ? 1 : 0;
        var trainFiles = c100 ? ["train.bin"] : DatasetCatalog.Cifar10TrainFiles;
        string[] testFiles = c100 ? ["test.bin"] : ["test_batch.bin"];
        var namesFile = c100 ? "fine_label_names.txt" : "batches.meta.txt";
        CifarBinaryReader.Split train, test;
        string? names = null;
        if (located.Format == LocatedFormat.CifarFolder)
        {
            var folder = Path.GetDirectoryName(located.Paths[0])!;
            train = CifarBinaryReader.ReadFiles(folder, trainFiles, labelBytes, labelIndex);
            test = CifarBinaryReader.ReadFiles(folder, testFiles, labelBytes, labelIndex);
            var namesPath = Path.Combine(folder, namesFile);
            if (File.Exists(namesPath)) names = File.ReadAllText(namesPath);
        }
        else
        {
            var (tr, te, texts) = CifarBinaryReader.ReadTarGz(located.Paths[0], trainFiles, testFiles, [namesFile], labelBytes, labelIndex);
            train = tr;
            test = te;
            texts.TryGetValue(namesFile, out names);
        }
        var classNames = d.ClassNames;
        var fromFile = names?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fromFile is not null && fromFile.Length == classNames.Count) classNames = fromFile;
        int maxLabel = Math.Max(train.Labels.max().item<byte>(), test.Labels.max().item<byte>());
        if (maxLabel >= classNames.Count)
        {
            foreach (var t in new[] { train.Images, train.Labels, test.Images, test.Labels }) t.Dispose();
            throw new DatasetException($"{source}: label {maxLabel} is out of range for {classNames.Count} classes; the files are corrupt or of the other CIFAR.");
        }
        return new RawDataset
        {
            Name = d.Name, Kind = d.Kind, ClassNames = classNames, Source = source,
            TrainX = train.Images, TrainY = train.Labels, TestX = test.Images, TestY = test.Labels,
        };
    }

    private static void CheckPair(Tensor x, Tensor y, string xName, string yName)
    {
        if (x.shape[0] != y.shape[0])
            throw new DatasetException($"{Path.GetFileName(xName)} has {x.shape[0]} examples but {Path.GetFileName(yName)} has {y.shape[0]} labels.");
    }
}
