using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Conditional updates on the runs table that make it the single source of truth about who trains a run.
/// Each is one UPDATE … WHERE, so two executors (a job fetched twice by Hangfire, or a job and its requeued
/// copy) cannot both win, whichever process they live in.
/// </summary>
public static class RunLeases
{
    /// <summary>Takes a queued run for <paramref name="owner"/>. False if it is not queued (already taken,
    /// finished, cancelled or deleted): the caller then does nothing.</summary>
    public static async Task<bool> TryClaimAsync(this TrainingDbContext db, Guid runId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        var expires = now + lease;
        var rows = await db.Runs
            .Where(r => r.Id == runId && r.Status == RunStatus.Queued && !r.CancelRequested)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Running)
                .SetProperty(r => r.LeaseOwner, owner)
                .SetProperty(r => r.LeaseExpiresAt, expires)
                .SetProperty(r => r.StartedAt, r => r.StartedAt ?? now)
                .SetProperty(r => r.Attempts, r => r.Attempts + 1), ct);
        return rows == 1;
    }

    /// <summary>Extends the lease; false means the run is no longer ours (deleted, recovered by someone else).</summary>
    public static async Task<bool> TryRenewAsync(this TrainingDbContext db, Guid runId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        var expires = now + lease;
        var rows = await db.Runs
            .Where(r => r.Id == runId && r.Status == RunStatus.Running && r.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LeaseExpiresAt, expires), ct);
        return rows == 1;
    }

    /// <summary>Puts runs whose executor vanished (lease lapsed) back in the queue; returns their ids, each
    /// returned to exactly one caller. A run whose cancel was requested ends <c>cancelled</c> instead: the claim
    /// refuses such runs, so queueing it again would leave it queued for ever.</summary>
    public static async Task<List<Guid>> RequeueAbandonedAsync(this TrainingDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var candidates = await db.Runs
            .Where(r => r.Status == RunStatus.Running && r.LeaseExpiresAt < now)
            .Select(r => new { r.Id, r.LeaseOwner })
            .ToListAsync(ct);
        var requeued = new List<Guid>();
        foreach (var c in candidates)
        {
            if (await db.HandBackAsync(c.Id, c.LeaseOwner, now, ct, requireLapsed: true)) requeued.Add(c.Id);
        }
        return requeued;
    }

    /// <summary>Hands a running run held by <paramref name="owner"/> back: to the queue to resume from its checkpoint,
    /// or to <c>cancelled</c> when a cancel was requested. True when it was queued again.</summary>
    public static async Task<bool> HandBackAsync(this TrainingDbContext db, Guid runId, string? owner, DateTimeOffset now,
        CancellationToken ct, bool requireLapsed = false)
    {
        var held = db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.Running && r.LeaseOwner == owner
            && (!requireLapsed || r.LeaseExpiresAt < now));
        await held.Where(r => r.CancelRequested)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(r => r.Error, "Cancelled on request; its executor stopped before it could record that."), ct);
        var rows = await held.Where(r => !r.CancelRequested)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Queued)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), ct);
        return rows == 1;
    }

    /// <summary>Gives a run back to the queue (graceful shutdown): the next executor resumes it.</summary>
    public static Task<bool> ReleaseAsync(this TrainingDbContext db, Guid runId, string owner, DateTimeOffset now, CancellationToken ct) =>
        db.HandBackAsync(runId, owner, now, ct);
}
