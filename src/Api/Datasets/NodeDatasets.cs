using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Datasets;

namespace TrainingService.Api.Datasets;

/// <summary>The datasets of this node: the catalog's options and the datasets loaded from <c>Datasets:Root</c>, once
/// per process. A singleton; everything that depends on the caller goes through <see cref="CatalogDatasets"/>.</summary>
public sealed class NodeDatasets : IDisposable
{
    public NodeDatasets(IConfiguration configuration, IOptions<StorageOptions> storage)
    {
        var section = configuration.GetSection("Datasets");
        Options = new DatasetOptions
        {
            Root = section["Root"] ?? Path.Combine(Path.GetFullPath(storage.Value.Root), "datasets"),
            AllowDownload = section.GetValue("AllowDownload", false),
            MaxUploadBytes = section.GetValue("MaxUploadBytes", new DatasetOptions().MaxUploadBytes),
            FashionMnistSystemFolders = section.GetSection("FashionMnistSystemFolders").Get<string[]>() ?? new DatasetOptions().FashionMnistSystemFolders,
        };
        Cache = new DatasetCache(new DatasetLoader(Options));
    }

    public DatasetOptions Options { get; }

    public DatasetCache Cache { get; }

    public void Dispose() => Cache.Dispose();
}
