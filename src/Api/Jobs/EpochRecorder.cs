using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Writes each epoch as it ends, in one transaction: the metrics row, the checkpoint to resume from, the best
/// state when the monitored value improved, and the run's epoch count. The transaction first re-asserts this
/// executor's lease and that the previous epoch is the last one recorded, so an epoch is never written twice and
/// a run that was taken away (deleted, recovered elsewhere) gets no more writes from here.
/// </summary>
public sealed class EpochRecorder(
    TrainingDbContext db, Guid runId, string owner, TimeSpan lease, TimeProvider clock, RunEvents events, double? bestSoFar)
    : ITrainingObserver
{
    private double? _best = bestSoFar;

    /// <summary>Keras's default monitor for "best": validation loss when there is validation, else loss.</summary>
    public static double? Monitored(IReadOnlyDictionary<string, double> logs) =>
        logs.TryGetValue("val_loss", out var v) ? v : logs.TryGetValue("loss", out var l) ? l : null;

    public void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint)
    {
        var state = checkpoint();
        var now = clock.GetUtcNow();
        var monitored = Monitored(report.Logs);
        var improved = monitored is { } m && !double.IsNaN(m) && (_best is null || m < _best);

        using (var tx = db.Database.BeginTransaction())
        {
            var expires = now + lease;
            var previous = report.Epoch - 1;
            var owned = db.Runs
                .Where(r => r.Id == runId && r.Status == RunStatus.Running && r.LeaseOwner == owner && r.EpochsCompleted == previous)
                .ExecuteUpdate(s => s
                    .SetProperty(r => r.EpochsCompleted, report.Epoch)
                    .SetProperty(r => r.LeaseExpiresAt, expires));
            if (owned != 1) throw new LeaseLostException(runId);

            db.EpochMetrics.Add(new EpochMetric
            {
                RunId = runId,
                Epoch = report.Epoch,
                LogsJson = JsonSerializer.Serialize(report.Logs),
                Loss = report.Logs.TryGetValue("loss", out var loss) ? loss : null,
                LearningRate = report.LearningRate,
                DurationSeconds = report.DurationSeconds,
                RecordedAt = now,
            });
            Upsert(WeightsKind.Checkpoint, report.Epoch, state, now);
            if (improved) Upsert(WeightsKind.Best, report.Epoch, state, now);
            db.SaveChanges();
            tx.Commit();
        }
        db.ChangeTracker.Clear();
        if (improved) _best = monitored;
        events.Notify(runId);
    }

    private void Upsert(WeightsKind kind, int epoch, byte[] data, DateTimeOffset now) =>
        WeightsStore.Replace(db, runId, kind, epoch, data, now);
}
