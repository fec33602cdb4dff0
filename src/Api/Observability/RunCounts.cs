using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Observability;

/// <summary>
/// Runs per status, read from the database when <c>/metrics</c> is scraped (one grouped count on the status index),
/// and reused for a few seconds so several scrapers or a tight scrape interval cost one query. The counts are the
/// cluster's, not this node's: every node reports the same numbers (aggregate them with <c>max</c>, not <c>sum</c>).
/// </summary>
public sealed class RunCounts(IDbContextFactory<TrainingDbContext> contexts, TimeProvider clock, ILogger<RunCounts> logger)
{
    private static readonly TimeSpan Reuse = TimeSpan.FromSeconds(2);
    private Snapshot? _last;

    /// <summary>The last counts read, or null when the database did not answer (then the gauges are absent).</summary>
    public IReadOnlyDictionary<RunStatus, long>? Current => Volatile.Read(ref _last)?.Counts;

    public async Task RefreshAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (Volatile.Read(ref _last) is { } last && now - last.ReadAt < Reuse) return;
        try
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.Runs.GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
            var counts = Enum.GetValues<RunStatus>().ToDictionary(s => s, s => rows.SingleOrDefault(r => r.Key == s)?.Count ?? 0);
            Volatile.Write(ref _last, new Snapshot(now, counts));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A stale count would look healthy; report none and let the scrape carry the rest.
            Volatile.Write(ref _last, null);
            logger.LogWarning(e, "Run counts for /metrics could not be read");
        }
    }

    private sealed record Snapshot(DateTimeOffset ReadAt, IReadOnlyDictionary<RunStatus, long> Counts);
}
