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
        Spec = Json.ParseElement(run.SpecJson), Threads = Json.ParseElement(run.ThreadsJson),
        Dataset = DatasetName(run.SpecJson), Parameters = TotalParameters(run.SummaryJson), Role = run.Role,
    };

    public static EpochMetricResponse AsResponse(this EpochMetric metric)
    {
        var logs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(metric.LogsJson) ?? [];
        return new EpochMetricResponse(metric.Epoch, metric.LearningRate, metric.DurationSeconds) { Logs = logs };
    }

    /// <summary><c>dataset.name</c> of a stored spec, or null.</summary>
    public static string? DatasetName(string specJson)
    {
        using var doc = JsonDocument.Parse(specJson);
        return doc.RootElement.TryGetProperty("dataset", out var d) && d.ValueKind == JsonValueKind.Object
               && d.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
    }

    /// <summary>The model's total parameter count from its stored layer table, or null.</summary>
    public static long? TotalParameters(string? summaryJson)
    {
        if (summaryJson is null) return null;
        using var doc = JsonDocument.Parse(summaryJson);
        return doc.RootElement.TryGetProperty("total_parameters", out var p) && p.TryGetInt64(out var v) ? v : null;
    }
}
