using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Limits;

/// <summary>
/// Checks a principal's quotas against what the database holds, inside a transaction that holds the owner's lock,
/// so two concurrent submissions of one owner cannot both see room for one more: the caller checks, writes and
/// commits in the transaction <see cref="BeginAsync"/> returns. PostgreSQL takes a transaction-scoped advisory lock
/// per owner (other owners proceed); SQLite has one writer, and its transactions begin IMMEDIATE (taking the write
/// lock at once), which serialises them the same way.
/// </summary>
public sealed class Quotas(TrainingDbContext db, IOptions<QuotaOptions> options)
{
    public const string ActiveRuns = "active_runs", ConcurrentTrials = "concurrent_trials", StoredBytes = "stored_bytes";

    private const int OwnerLockClass = 0x7175; // "qu": apart from DatabaseSetup's classes

    /// <summary>The owner's write lock, held until the returned transaction ends.</summary>
    public async Task<IDbContextTransaction> BeginAsync(string owner, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({OwnerLockClass}, hashtext({owner}))", ct);
        return tx;
    }

    /// <summary>A new top-level run (and the <paramref name="bytes"/> it stores now): refused when the owner already has
    /// its limit of queued and running runs, or the bytes would not fit.</summary>
    public async Task<ProblemHttpResult?> CheckRunAsync(string owner, long bytes, CancellationToken ct)
    {
        var limit = options.Value.ActiveRunsFor(owner);
        var active = await db.Runs.IgnoreQueryFilters()
            .CountAsync(r => r.Owner == owner && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running)
                             && (r.Role == null || r.Role == RunRoles.CrossValidation), ct);
        if (active + 1 > limit)
            return Refuse(ActiveRuns, limit, active, $"Owner '{owner}' has {active} queued or running runs; the limit is {limit}. Wait for one to end or cancel one.");
        // Even a run that stores nothing yet will write weights: an owner already past its bytes gets no new run.
        return await CheckBytesAsync(owner, bytes, ct);
    }

    /// <summary>A new sweep that would train <paramref name="trials"/> trials at once: refused only when that alone passes
    /// the owner's limit (it could never run as asked). Beside the owner's other sweeps it is accepted: the sweep
    /// coordinator launches trials only while <see cref="TrialRoomAsync"/> has room, so extra trials wait.</summary>
    public async Task<ProblemHttpResult?> CheckSweepAsync(string owner, int trials, CancellationToken ct)
    {
        var limit = options.Value.ConcurrentTrialsFor(owner);
        if (trials <= limit) return null;
        var used = await ActiveTrials().CountAsync(r => r.Owner == owner, ct);
        return Refuse(ConcurrentTrials, limit, used,
            $"This sweep's max_concurrent_trials {trials} is above owner '{owner}''s limit of {limit} trials training at once; ask for at most {limit}.");
    }

    /// <summary>How many more trials each owner may start now: its limit less its queued and running trials over all its
    /// sweeps (those of a cancelled sweep still winding down included). The sweep coordinator takes a place per launch.</summary>
    public async Task<TrialRoom> TrialRoomAsync(CancellationToken ct)
    {
        var active = await ActiveTrials().GroupBy(r => r.Owner ?? "").Select(g => new { Owner = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Owner, g => g.Count, StringComparer.Ordinal, ct);
        return new TrialRoom(options.Value, active);
    }

    private IQueryable<Run> ActiveTrials() =>
        db.Runs.IgnoreQueryFilters().Where(r => r.Role == RunRoles.Trial && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running));

    /// <summary><paramref name="bytes"/> more stored for the owner.</summary>
    public async Task<ProblemHttpResult?> CheckBytesAsync(string owner, long bytes, CancellationToken ct)
    {
        var limit = options.Value.StoredBytesFor(owner);
        var used = await StoredBytesAsync(owner, ct);
        if (used + bytes > limit)
            return Refuse(StoredBytes, limit, used,
                $"Owner '{owner}' stores {used} bytes of weights, checkpoints and uploads; {bytes} more would pass the limit of {limit}. Delete runs or uploads you no longer need.");
        return null;
    }

    /// <summary>Bytes in the owner's weights rows (final, best, checkpoint, initial) and CSV uploads, summed by the database.</summary>
    public async Task<long> StoredBytesAsync(string owner, CancellationToken ct)
    {
        var weights = await (from w in db.RunWeights
                             join r in db.Runs.IgnoreQueryFilters() on w.RunId equals r.Id
                             where r.Owner == owner
                             select (long?)w.Data.Length).SumAsync(ct) ?? 0;
        var uploads = await db.DatasetUploads.IgnoreQueryFilters().Where(u => u.Owner == owner).SumAsync(u => (long?)u.Bytes, ct) ?? 0;
        return weights + uploads;
    }

    /// <summary>403 naming the limit, its value and the current usage (as ProblemDetails extensions).</summary>
    private static ProblemHttpResult Refuse(string quota, long limit, long usage, string detail) =>
        TypedResults.Problem(title: "Quota exceeded", detail: detail, statusCode: StatusCodes.Status403Forbidden,
            extensions: new Dictionary<string, object?> { ["quota"] = quota, ["limit"] = limit, ["usage"] = usage });
}

/// <summary>Places for trials, per owner, for one pass of the sweep coordinator (which runs alone, under its database lock).</summary>
public sealed class TrialRoom(QuotaOptions options, Dictionary<string, int> active)
{
    /// <summary>Takes a place for one more of <paramref name="owner"/>'s trials; false when its trials already fill its limit.</summary>
    public bool TryTake(string? owner)
    {
        owner ??= "";
        var used = active.GetValueOrDefault(owner);
        if (used >= options.ConcurrentTrialsFor(owner)) return false;
        active[owner] = used + 1;
        return true;
    }
}
