using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Sweeps;

/// <summary>Reads a sweep's trials with their runs and objective values from the tables.</summary>
public static class SweepReport
{
    public const string Pending = "pending", Stopped = "stopped";

    public static async Task<List<TrialRow>> TrialsAsync(TrainingDbContext db, Sweep sweep, CancellationToken ct)
    {
        var trials = await db.SweepTrials.AsNoTracking().Where(t => t.SweepId == sweep.Id).OrderBy(t => t.Number).ToListAsync(ct);
        var runIds = trials.Where(t => t.RunId != null).Select(t => t.RunId!.Value).ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id))
            .Select(r => new { r.Id, r.Status, r.EpochsCompleted, r.EpochsPlanned, r.MetricsJson, r.Error, r.StartedAt, r.FinishedAt })
            .ToDictionaryAsync(r => r.Id, ct);
        var objectives = await ObjectivesAsync(db, runIds, sweep.ObjectiveMetric, ct);
        return trials.Select(t =>
        {
            var run = t.RunId is { } id && runs.TryGetValue(id, out var r) ? r : null;
            var status = run is null ? (sweep.Status.IsTerminal() ? "cancelled" : Pending)
                // Before runs could end stopped, a stopped trial's run ended cancelled; it was stopped all the same.
                : t.StoppedAtEpoch is not null && run.Status is RunStatus.Stopped or RunStatus.Cancelled ? Stopped
                : run.Status.ToWire();
            double? seconds = run is { StartedAt: { } s, FinishedAt: { } f } ? Math.Round((f - s).TotalSeconds, 2) : null;
            return new TrialRow(t.Number, status, JsonNode.Parse(t.ParamsJson)!.AsObject(), run?.Id, run?.EpochsCompleted ?? 0, run?.EpochsPlanned ?? 0,
                run is null ? null : objectives.GetValueOrDefault(run.Id), t.StoppedAtEpoch, Json.ParseElement(run?.MetricsJson), seconds,
                status == Stopped ? $"Stopped by the early-stopping scheduler at its rung at epoch {t.StoppedAtEpoch}."
                    : run is null && sweep.Status.IsTerminal() ? "Not started: the sweep ended first." : run?.Error);
        }).ToList();
    }

    /// <summary>The objective metric at each run's last recorded epoch.</summary>
    public static async Task<Dictionary<Guid, double?>> ObjectivesAsync(TrainingDbContext db, List<Guid> runIds, string metric, CancellationToken ct)
    {
        var last = await db.EpochMetrics.AsNoTracking().Where(m => runIds.Contains(m.RunId))
            .GroupBy(m => m.RunId).Select(g => new { RunId = g.Key, Epoch = g.Max(m => m.Epoch) }).ToListAsync(ct);
        var result = new Dictionary<Guid, double?>();
        foreach (var l in last)
        {
            var logs = await db.EpochMetrics.AsNoTracking().Where(m => m.RunId == l.RunId && m.Epoch == l.Epoch).Select(m => m.LogsJson).SingleAsync(ct);
            result[l.RunId] = Value(logs, metric);
        }
        return result;
    }

    public static double? Value(string logsJson, string metric)
    {
        using var doc = JsonDocument.Parse(logsJson);
        return doc.RootElement.TryGetProperty(metric, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
    }

    /// <summary>Best first: trials with an objective by it (ties by number), then the rest by number.</summary>
    public static List<TrialRow> Sorted(IEnumerable<TrialRow> trials, Objective objective) =>
        trials.OrderBy(t => t.Objective is null || double.IsNaN(t.Objective.Value) ? 1 : 0)
              .ThenBy(t => t.Objective is { } v && !double.IsNaN(v) ? (objective.Maximize ? -v : v) : 0)
              .ThenBy(t => t.Number)
              .ToList();

    /// <summary>The best trial that finished (only a finished trial has final weights to serve).</summary>
    public static TrialRow? Best(IEnumerable<TrialRow> trials, Objective objective) =>
        Sorted(trials.Where(t => t.Status == "succeeded" && t.Objective is { } v && !double.IsNaN(v)), objective).FirstOrDefault();

    public static async Task<SweepResponse> ResponseAsync(TrainingDbContext db, Sweep sweep, CancellationToken ct)
    {
        var d = SweepDefinition.FromJson(sweep.SpecJson);
        var space = d.ParseSpace();
        var rows = await TrialsAsync(db, sweep, ct);
        var best = sweep.BestTrial is { } b ? rows.FirstOrDefault(r => r.Number == b) : Best(rows, d.Objective);
        var promoted = sweep.PromotedRunId is { } p && d.PromoteTo is { } name && sweep.BestTrial is { } from ? new PromotedModel(name, p, from) : null;
        var planned = d.Base["fit"]?["epochs"] is JsonValue e && e.TryGetValue<int>(out var ep) ? ep : 1;
        double? wall = sweep.StartedAt is { } s ? Math.Round(((sweep.FinishedAt ?? DateTimeOffset.UtcNow) - s).TotalSeconds, 1) : null;
        return new SweepResponse(sweep.Id, sweep.Name, sweep.Status.ToWire(), sweep.Method, sweep.CreatedAt, sweep.StartedAt, sweep.FinishedAt, wall,
            new SweepObjective(d.Objective.Metric, d.Objective.Mode), d.MaxTrials, d.MaxConcurrentTrials, d.Asha?.Rungs(planned),
            Count(rows, d, space), Sorted(rows, d.Objective), best,
            best is null ? null : d.TrialSpec(space, best.Params), promoted, sweep.Error,
            JsonDocument.Parse(sweep.SpecJson).RootElement.Clone());
    }

    public static SweepCounts Count(IReadOnlyList<TrialRow> trials, SweepDefinition d, SearchSpace space)
    {
        int Of(string s) => trials.Count(t => t.Status == s);
        var planned = trials.Sum(t => t.EpochsPlanned > 0 ? t.EpochsPlanned : PlannedEpochs(d, space, t.Params));
        return new SweepCounts(trials.Count, Of(Pending), Of("queued"), Of("running"), Of("succeeded"), Of(Stopped), Of("failed"), Of("cancelled"),
            trials.Sum(t => t.EpochsCompleted), planned);
    }

    private static int PlannedEpochs(SweepDefinition d, SearchSpace space, JsonObject point)
    {
        var spec = d.TrialSpec(space, point);
        return spec["fit"]?["epochs"] is JsonValue v && v.TryGetValue<int>(out var e) ? e : 1;
    }
}
