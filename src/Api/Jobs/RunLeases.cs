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
    /// returned to exactly one caller.</summary>
    public static async Task<List<Guid>> RequeueAbandonedAsync(this TrainingDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var candidates = await db.Runs
            .Where(r => r.Status == RunStatus.Running && r.LeaseExpiresAt < now)
            .Select(r => new { r.Id, r.LeaseOwner })
            .ToListAsync(ct);
        var requeued = new List<Guid>();
        foreach (var c in candidates)
        {
            var rows = await db.Runs
                .Where(r => r.Id == c.Id && r.Status == RunStatus.Running && r.LeaseOwner == c.LeaseOwner && r.LeaseExpiresAt < now)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, RunStatus.Queued)
                    .SetProperty(r => r.LeaseOwner, (string?)null)
                    .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), ct);
            if (rows == 1) requeued.Add(c.Id);
        }
        return requeued;
    }

    /// <summary>Gives a run back to the queue (graceful shutdown): the next executor resumes it.</summary>
    public static Task<int> ReleaseAsync(this TrainingDbContext db, Guid runId, string owner, CancellationToken ct) =>
        db.Runs
            .Where(r => r.Id == runId && r.Status == RunStatus.Running && r.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Queued)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), ct);
}
