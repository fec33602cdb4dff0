namespace TrainingService.Training.Engine;

/// <summary>Upper bounds a definition must stay within (configurable by the host).</summary>
public sealed record EngineLimits
{
    public long MaxParameters { get; init; } = 50_000_000;
    public int MaxLayers { get; init; } = 200;
    public int MaxEpochs { get; init; } = 1_000;
    public int MaxBatchSize { get; init; } = 8_192;

    /// <summary>Entries a <c>.keras</c> archive may hold (config, metadata, weights, a few assets).</summary>
    public int MaxArchiveEntries { get; init; } = 64;

    /// <summary>Inflated size of a <c>.keras</c> archive's config.json and metadata.json, each.</summary>
    public long MaxArchiveJsonBytes { get; init; } = 16L * 1024 * 1024;
}
