namespace TrainingService.Training.Engine;

/// <summary>What one finished epoch reports: Keras's log keys (<c>loss</c>, each metric, <c>val_*</c>),
/// the learning rate in force during the epoch and the wall time. <see cref="Epoch"/> is 1-based.</summary>
public sealed record EpochReport(
    int Epoch,
    IReadOnlyDictionary<string, double> Logs,
    double LearningRate,
    double DurationSeconds)
{
    /// <summary>Training examples the epoch went through (validation excluded): throughput is this over the duration.</summary>
    public long Samples { get; init; }
}
