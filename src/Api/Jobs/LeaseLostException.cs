namespace TrainingService.Api.Jobs;

/// <summary>The run is no longer this executor's (deleted, or recovered by another after the lease lapsed):
/// the executor stops at once and writes nothing more.</summary>
public sealed class LeaseLostException(Guid runId)
    : Exception($"Run {runId} is no longer held by this executor.");
