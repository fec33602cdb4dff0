using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Jobs;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Sweeps;

/// <summary>
/// Asynchronous successive halving (ASHA; Li et al. 2020, as Ray Tune's AsyncHyperBandScheduler and Katib do it).
/// A trial that finishes a rung epoch is compared with the values every earlier-judged trial had at that rung; it
/// goes on only if it is in the top 1/<c>reduction_factor</c> of them (numpy's linear percentile), otherwise it is
/// stopped there. The first trial at a rung, and the best so far at a rung, always go on. Decisions are taken in the
/// training thread right after the epoch is stored, so the trial never starts another epoch once stopped; they
/// are recorded on the trial (<see cref="SweepTrial.LastRung"/>, <see cref="SweepTrial.StoppedAtEpoch"/>).
/// </summary>
public sealed class AshaScheduler(IDbContextFactory<TrainingDbContext> contexts, RunCancellations cancellations, ILogger<AshaScheduler> logger)
{
    private readonly ConcurrentDictionary<Guid, object> _locks = new();

    /// <summary>Before training: a trial stopped before an interruption stays stopped.</summary>
    public void OnStart(Guid runId)
    {
        using var db = contexts.CreateDbContext();
        if (db.SweepTrials.AsNoTracking().Any(t => t.RunId == runId && t.StoppedAtEpoch != null))
            cancellations.TryCancel(runId);
    }

    /// <summary>The rung epoch trial run <paramref name="runId"/> was stopped at; null if it was not stopped.</summary>
    public int? StoppedAt(Guid runId)
    {
        using var db = contexts.CreateDbContext();
        return db.SweepTrials.AsNoTracking().Where(t => t.RunId == runId).Select(t => t.StoppedAtEpoch).FirstOrDefault();
    }

    /// <summary>After epoch <paramref name="epoch"/> of trial run <paramref name="runId"/> was recorded.</summary>
    public void OnEpoch(Guid runId, Guid sweepId, int epoch, int plannedEpochs)
    {
        lock (_locks.GetOrAdd(sweepId, _ => new object()))
        {
            using var db = contexts.CreateDbContext();
            var trial = db.SweepTrials.AsNoTracking().SingleOrDefault(t => t.RunId == runId);
            var sweep = db.Sweeps.AsNoTracking().SingleOrDefault(s => s.Id == sweepId);
            if (trial is null || sweep is null) return;
            if (trial.StoppedAtEpoch is not null)
            {
                cancellations.TryCancel(runId);
                return;
            }
            var definition = SweepDefinition.FromJson(sweep.SpecJson);
            if (definition.Asha is not { } asha) return;

            foreach (var rung in asha.Rungs(plannedEpochs).Where(r => r <= epoch && r > (trial.LastRung ?? 0)))
            {
                var stop = Judge(db, sweepId, runId, rung, definition.Objective, asha.ReductionFactor, out var value, out var cutoff);
                db.SweepTrials.Where(t => t.SweepId == sweepId && t.Number == trial.Number)
                    .ExecuteUpdate(s => s.SetProperty(t => t.LastRung, rung).SetProperty(t => t.StoppedAtEpoch, stop ? rung : null));
                if (!stop) continue;
                logger.LogInformation("Sweep {SweepId}: trial {Trial} stopped at rung {Rung} ({Value} vs cutoff {Cutoff})",
                    sweepId, trial.Number, rung, value, cutoff);
                cancellations.TryCancel(runId);
                return;
            }
        }
    }

    private static bool Judge(TrainingDbContext db, Guid sweepId, Guid runId, int rung, Objective objective, int reductionFactor,
        out double? value, out double? cutoff)
    {
        var judged = db.SweepTrials.AsNoTracking()
            .Where(t => t.SweepId == sweepId && t.RunId != null && t.RunId != runId && t.LastRung >= rung)
            .Select(t => t.RunId!.Value).ToList();
        var logs = db.EpochMetrics.AsNoTracking()
            .Where(m => m.Epoch == rung && (m.RunId == runId || judged.Contains(m.RunId)))
            .Select(m => new { m.RunId, m.LogsJson }).ToList();
        value = logs.Where(l => l.RunId == runId).Select(l => SweepReport.Value(l.LogsJson, objective.Metric)).FirstOrDefault();
        var recorded = logs.Where(l => l.RunId != runId).Select(l => SweepReport.Value(l.LogsJson, objective.Metric))
            .Where(v => v is { } x && !double.IsNaN(x)).Select(v => objective.Maximize ? v!.Value : -v!.Value).ToList();
        cutoff = Cutoff(recorded, reductionFactor);
        if (cutoff is null) return false;
        if (value is not { } v || double.IsNaN(v)) return true; // a diverged trial does not go on once others have a value
        return (objective.Maximize ? v : -v) < cutoff.Value;
    }

    /// <summary>The <c>(1 - 1/rf)</c> quantile of <paramref name="recorded"/> (higher is better), interpolated
    /// linearly as numpy's <c>percentile</c>; null when nothing is recorded yet.</summary>
    public static double? Cutoff(IReadOnlyList<double> recorded, int reductionFactor)
    {
        if (recorded.Count == 0) return null;
        var sorted = recorded.Order().ToArray();
        var rank = (1 - 1.0 / reductionFactor) * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }
}
