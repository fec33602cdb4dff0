namespace TrainingService.Persistence.Runs;

/// <summary>One finished epoch of a run. The key (run, epoch) makes writing an epoch twice impossible.</summary>
public sealed class EpochMetric
{
    public Guid RunId { get; set; }

    /// <summary>1-based, as Keras prints it.</summary>
    public int Epoch { get; set; }

    /// <summary>Keras's log keys for the epoch (<c>loss</c>, each metric, each <c>val_*</c>) as a JSON object.</summary>
    public required string LogsJson { get; set; }

    public double? Loss { get; set; }
    public double LearningRate { get; set; }
    public double DurationSeconds { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}
