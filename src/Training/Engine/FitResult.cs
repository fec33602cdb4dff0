namespace TrainingService.Training.Engine;

/// <summary>The outcome of <c>fit</c>: every epoch's report, the best epoch by the monitored quantity
/// (when a callback monitors one), whether early stopping ended training, and the intra-op threads it trained with
/// (when a <see cref="ThreadPolicy"/> was given).</summary>
public sealed record FitResult(IReadOnlyList<EpochReport> History, int? BestEpoch, bool StoppedEarly, ThreadChoice? Threads = null);
