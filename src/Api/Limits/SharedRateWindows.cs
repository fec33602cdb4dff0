using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence;

namespace TrainingService.Api.Limits;

/// <summary>
/// The rate-limit windows every node shares, in the database (<c>rate_windows</c>): a node claims permits for an
/// owner and policy with one atomic UPSERT and learns how many of them are still under the limit. One per node.
/// </summary>
public sealed class SharedRateWindows(IDbContextFactory<TrainingDbContext> dbs, ILogger<SharedRateWindows> log)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>How long after a failed claim this node keeps to its own in-memory limits before asking the database
    /// again, so a database that is down costs one slow request per interval, not every request.</summary>
    public static readonly TimeSpan RetryDatabaseAfter = TimeSpan.FromSeconds(10);

    /// <summary>Longest a claim may take before the node treats the database as unavailable: requests wait on a claim,
    /// and a database that does not answer (PostgreSQL's connect timeout is 15 s) must not hold them that long.</summary>
    public static readonly TimeSpan ClaimTimeout = TimeSpan.FromSeconds(2);

    private long _cleanedWindow = long.MinValue;
    private long _unavailableUntilTicks;

    /// <summary>True while the database failed recently: limiters then count in this node's memory only.</summary>
    public bool Unavailable => DateTimeOffset.UtcNow.UtcTicks < Volatile.Read(ref _unavailableUntilTicks);

    /// <summary>The owner as <c>rate_windows</c> stores it (at most 64 characters): a longer one (a token's subject may
    /// be) is cut and completed with a hash, so it cannot make the UPSERT fail and push the node to its local limits.</summary>
    public static string OwnerKey(string owner) => owner.Length <= 64
        ? owner
        : string.Concat(owner.AsSpan(0, 31), "#", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(owner))).AsSpan(0, 32));

    /// <summary>The start (Unix seconds) of the window holding <paramref name="now"/>.</summary>
    public static long WindowStart(DateTimeOffset now) => now.ToUnixTimeSeconds() / (long)Window.TotalSeconds * (long)Window.TotalSeconds;

    /// <summary>
    /// Claims <paramref name="wanted"/> permits of <paramref name="owner"/>'s <paramref name="policy"/> window and
    /// answers how many of them this node may use: all, the part still under <paramref name="limit"/>, or none. Null
    /// when the database could not be reached (logged; the caller falls back to a node-local limit).
    /// </summary>
    public async Task<int?> ClaimAsync(string owner, string policy, long windowStart, int wanted, int limit, CancellationToken ct)
    {
        if (Unavailable) return null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ClaimTimeout);
        try
        {
            await using var db = await dbs.CreateDbContextAsync(timeout.Token);
            // Atomic on both providers (SQLite has had UPSERT ... RETURNING since 3.35): concurrent nodes each see the
            // total including their own claim, so the permits granted across the cluster never pass the limit.
            var claimed = (await db.Database.SqlQuery<long>($"""
                INSERT INTO rate_windows ("Owner", "Policy", "WindowStart", "Claimed")
                VALUES ({owner}, {policy}, {windowStart}, {(long)wanted})
                ON CONFLICT ("Owner", "Policy", "WindowStart")
                DO UPDATE SET "Claimed" = rate_windows."Claimed" + excluded."Claimed"
                RETURNING "Claimed" AS "Value"
                """).ToListAsync(timeout.Token)).Single();
            await CleanUpAsync(db, windowStart, timeout.Token);
            var before = claimed - wanted;
            return (int)Math.Clamp(limit - before, 0, wanted);
        }
        catch (Exception e) when ((e is DbException or InvalidOperationException or TimeoutException or OperationCanceledException) && !ct.IsCancellationRequested)
        {
            Volatile.Write(ref _unavailableUntilTicks, (DateTimeOffset.UtcNow + RetryDatabaseAfter).UtcTicks);
            log.LogWarning(e, "Rate limits could not be counted in the database; for the next {Seconds} s this node limits each " +
                "principal on its own (in memory), so behind several api nodes a principal may get up to the limit from each.",
                RetryDatabaseAfter.TotalSeconds);
            return null;
        }
    }

    /// <summary>The first claim a node makes in a new window deletes windows before the previous one: one small
    /// DELETE per node per minute keeps the table at about two rows per active owner and policy.</summary>
    private async Task CleanUpAsync(TrainingDbContext db, long windowStart, CancellationToken ct)
    {
        var last = Volatile.Read(ref _cleanedWindow);
        if (last >= windowStart || Interlocked.CompareExchange(ref _cleanedWindow, windowStart, last) != last) return;
        var before = windowStart - (long)Window.TotalSeconds;
        await db.RateWindows.Where(w => w.WindowStart < before).ExecuteDeleteAsync(ct);
    }
}
