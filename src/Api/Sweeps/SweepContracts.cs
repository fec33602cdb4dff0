using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainingService.Api.Sweeps;

/// <summary>A sweep as <c>GET /api/sweeps/{id}</c> shows it: trials sorted by the objective (best first), the best
/// trial and its run spec, the promoted model, and what early stopping saved.</summary>
public sealed record SweepResponse(
    Guid Id,
    string? Name,
    string Status,
    string Method,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? WallSeconds,
    SweepObjective Objective,
    int MaxTrials,
    int MaxConcurrentTrials,
    IReadOnlyList<int>? Rungs,
    SweepCounts Counts,
    IReadOnlyList<TrialRow> Trials,
    TrialRow? Best,
    JsonObject? BestSpec,
    PromotedModel? Promoted,
    string? Error,
    JsonElement Spec);

public sealed record SweepObjective(string Metric, string Mode);

/// <summary>Trials by state, and epochs trained against the epochs every trial would have trained to its end.</summary>
public sealed record SweepCounts(int Trials, int Pending, int Queued, int Running, int Succeeded, int Stopped, int Failed, int Cancelled,
    int EpochsTrained, int EpochsIfAllCompleted)
{
    public double EpochsSavedFraction => EpochsIfAllCompleted == 0 ? 0 : 1 - (double)EpochsTrained / EpochsIfAllCompleted;
}

/// <summary>One trial: its values, its run, its objective (the metric at its last finished epoch).</summary>
public sealed record TrialRow(
    int Number,
    string Status,
    JsonObject Params,
    Guid? RunId,
    int EpochsCompleted,
    int EpochsPlanned,
    double? Objective,
    int? StoppedAtEpoch,
    JsonElement? TestMetrics,
    double? DurationSeconds,
    string? Error);

public sealed record PromotedModel(string Name, Guid RunId, int FromTrial);

public sealed record SweepListItem(Guid Id, string? Name, string Status, string Method, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt,
    int Trials, int Finished, string ObjectiveMetric, double? BestObjective, string? PromoteTo);

public sealed record SweepPage(IReadOnlyList<SweepListItem> Items, int Page, int PageSize, int Total);
