using System.Text.Json;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Runs;

/// <summary>Entity → wire, by hand: entities never leave the API.</summary>
public static class RunMapping
{
    public static RunResponse AsRunResponse(this Run run) => new()
    {
        Id = run.Id, Name = run.Name, Status = run.Status.ToWire(), CreatedAt = run.CreatedAt, StartedAt = run.StartedAt,
        FinishedAt = run.FinishedAt, EpochsCompleted = run.EpochsCompleted, EpochsPlanned = run.EpochsPlanned,
        Metrics = Json.ParseElement(run.MetricsJson), Error = run.Error, BestEpoch = run.BestEpoch, StoppedEarly = run.StoppedEarly,
        CancelRequested = run.CancelRequested, Attempts = run.Attempts, Summary = Json.ParseElement(run.SummaryJson),
        Spec = Json.ParseElement(run.SpecJson),
    };

    public static EpochMetricResponse AsResponse(this EpochMetric metric)
    {
        var logs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(metric.LogsJson) ?? [];
        return new EpochMetricResponse(metric.Epoch, metric.LearningRate, metric.DurationSeconds) { Logs = logs };
    }
}
