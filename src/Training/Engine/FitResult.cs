namespace TrainingService.Training.Engine;

/// <summary>The outcome of <c>fit</c>: every epoch's report, the best epoch by the monitored quantity
/// (when a callback monitors one) and whether early stopping ended training.</summary>
public sealed record FitResult(IReadOnlyList<EpochReport> History, int? BestEpoch, bool StoppedEarly);
