using System.Text.Json;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Runs;

/// <summary>Entity → wire, by hand: entities never leave the API.</summary>
public static class RunMapping
{
    public static RunResponse AsRunResponse(this Run run) => new(
        run.Id, run.Name, run.Status.ToWire(), run.CreatedAt, run.StartedAt, run.FinishedAt,
        run.EpochsCompleted, run.EpochsPlanned, Json.ParseElement(run.MetricsJson), run.BestEpoch, run.StoppedEarly,
        run.CancelRequested, run.Attempts, run.Error, Json.ParseElement(run.SummaryJson), Json.ParseElement(run.SpecJson),
        Json.ParseElement(run.ThreadsJson));

    public static EpochMetricResponse AsResponse(this EpochMetric metric)
    {
        var logs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(metric.LogsJson) ?? [];
        return new EpochMetricResponse(metric.Epoch, metric.LearningRate, metric.DurationSeconds) { Logs = logs };
    }
}
