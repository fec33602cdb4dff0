namespace TrainingService.Training.Engine;

/// <summary>Upper bounds a definition must stay within (configurable by the host).</summary>
public sealed record EngineLimits
{
    public long MaxParameters { get; init; } = 50_000_000;
    public int MaxLayers { get; init; } = 200;
    public int MaxEpochs { get; init; } = 1_000;
    public int MaxBatchSize { get; init; } = 8_192;
}
