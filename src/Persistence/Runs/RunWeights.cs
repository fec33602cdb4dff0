namespace TrainingService.Persistence.Runs;

/// <summary>Which weights a <see cref="RunWeights"/> row holds.</summary>
public enum WeightsKind
{
    /// <summary>Full training state after the last finished epoch (weights, optimizer, RNG, callbacks): resume point.</summary>
    Checkpoint,

    /// <summary>Full training state after the epoch with the best monitored value so far.</summary>
    Best,

    /// <summary>The trained model's weights (what prediction restores).</summary>
    Final,

    /// <summary>Weights the run starts from (a submitted .keras archive's): fine-tuning, or served as they are with 0 epochs.</summary>
    Initial,
}

/// <summary>A weights blob of a run, one row per kind, kept out of the runs table.</summary>
public sealed class RunWeights
{
    public Guid RunId { get; set; }
    public WeightsKind Kind { get; set; }

    /// <summary>The epoch the blob was taken after.</summary>
    public int Epoch { get; set; }

    public required byte[] Data { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
