namespace TrainingService.Training.Datasets;

/// <summary>Where datasets live and what may be done to get them (configuration <c>Datasets:*</c>).</summary>
public sealed record DatasetOptions
{
    /// <summary>Folder with one subfolder per dataset (mnist/, fashion_mnist/, cifar10/, cifar100/, imdb/).
    /// Downloads go there too.</summary>
    public string? Root { get; init; }

    /// <summary>Fetch a missing dataset from its canonical source (verified by hash).</summary>
    public bool AllowDownload { get; init; }

    /// <summary>Extra folders searched for Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist package).</summary>
    public IReadOnlyList<string> FashionMnistSystemFolders { get; init; } = ["/usr/share/datasets/fashion-mnist"];

    /// <summary>Where uploaded CSV files are stored (by content hash). Default: <c>{Root}/uploads</c>.</summary>
    public string? UploadFolder { get; init; }

    /// <summary>Largest CSV upload accepted.</summary>
    public long MaxUploadBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>Columns, record length, rows and cells an uploaded CSV may have.</summary>
    public CsvLimits Csv { get; init; } = new();

    /// <summary>Largest single download accepted.</summary>
    public long MaxDownloadBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Per dataset, files to download instead of the catalog's canonical sources (an internal mirror).
    /// Each file still needs its hash.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<RemoteFile>> Mirrors { get; init; } = new Dictionary<string, IReadOnlyList<RemoteFile>>();

    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public string? ResolvedUploadFolder => UploadFolder ?? (Root is null ? null : Path.Combine(Root, "uploads"));
}
