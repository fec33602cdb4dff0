using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Observability;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Makes the runs table, not Hangfire's queue, decide what gets trained. At start-up it queues every run that is
/// waiting, and hands back runs that a dead predecessor on this machine left <c>running</c>; then it keeps
/// queueing runs whose executor's lease lapsed (a crashed process on any machine). Hangfire.Storage.SQLite would
/// re-deliver a killed job only after its 30-minute invisibility timeout; this brings it back within seconds.
/// A run queued twice is harmless: the claim lets one executor through and the other returns at once.
/// </summary>
public sealed class RunRecoveryService(
    IDbContextFactory<TrainingDbContext> contexts,
    RunQueue queue,
    ExecutorIdentity identity,
    IOptions<TrainingOptions> options,
    TimeProvider clock,
    ServiceMetrics metrics,
    ILogger<RunRecoveryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAtStartupAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Start-up recovery failed; the periodic scan will retry");
        }

        var interval = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.RecoveryIntervalSeconds));
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var db = await contexts.CreateDbContextAsync(stoppingToken);
                var requeued = await db.RequeueAbandonedAsync(clock.GetUtcNow(), stoppingToken);
                metrics.RunsRecovered(requeued.Count, ServiceMetrics.LeaseLapsed);
                foreach (var id in requeued)
                {
                    logger.LogWarning("Run {RunId} lost its executor (lease lapsed); queued again to resume from its checkpoint", id);
                    queue.Enqueue(id);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Recovery scan failed");
            }
        }
    }

    private async Task RecoverAtStartupAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        // Compile the claim's UPDATE now (it matches no run), so the first submission is not the one that waits for it.
        await db.TryClaimAsync(Guid.Empty, identity.Owner, clock.GetUtcNow(), TimeSpan.Zero, ct);
        // Leases held by an earlier process of this node that is gone: no need to wait for them to lapse.
        var prefix = identity.NodePrefix;
        var held = await db.Runs
            .Where(r => r.Status == RunStatus.Running && r.LeaseOwner != null && r.LeaseOwner.StartsWith(prefix) && r.LeaseOwner != identity.Owner)
            .Select(r => new { r.Id, r.LeaseOwner })
            .ToListAsync(ct);
        var orphaned = held.Where(o => identity.IsGonePredecessor(o.LeaseOwner!)).ToList();
        foreach (var o in orphaned) await db.HandBackAsync(o.Id, o.LeaseOwner, clock.GetUtcNow(), ct);
        metrics.RunsRecovered(orphaned.Count, ServiceMetrics.Restart);

        var queued = await db.Runs.Where(r => r.Status == RunStatus.Queued).OrderBy(r => r.CreatedAt).Select(r => r.Id).ToListAsync(ct);
        foreach (var id in queued) queue.Enqueue(id);
        if (orphaned.Count > 0 || queued.Count > 0)
            logger.LogInformation("Start-up: {Orphaned} interrupted run(s) handed back, {Queued} queued run(s) enqueued", orphaned.Count, queued.Count);
    }
}
