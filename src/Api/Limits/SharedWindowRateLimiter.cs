using System.Threading.RateLimiting;

namespace TrainingService.Api.Limits;

/// <summary>
/// A fixed one-minute window for one owner under one policy, counted for the whole cluster in
/// <see cref="SharedRateWindows"/>. The node claims permits from the shared window in chunks of
/// <c>chunk</c> and serves requests from that local reserve, so the database sees one write per chunk rather than one
/// per request. A claim is clamped to what is left under the limit, so the cluster never admits more than the limit in
/// a window; the price is that permits reserved by one node are not available to another, so a principal may be
/// refused on one node while up to (nodes - 1) x (chunk - 1) permits sit unused elsewhere. When the database cannot be
/// reached the limiter falls back to a limit in this node's memory (a principal then gets up to the limit per node).
/// </summary>
/// <remarks><see cref="RateLimiter.AttemptAcquire"/> never waits for the database: it serves the local reserve only.
/// ASP.NET Core's middleware follows a refused attempt with <see cref="RateLimiter.AcquireAsync"/>, which claims.</remarks>
public sealed class SharedWindowRateLimiter(SharedRateWindows windows, string owner, string policy, int limit, int chunk) : RateLimiter
{
    private readonly string _owner = SharedRateWindows.OwnerKey(owner);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _claiming = new(1, 1);
    private long _window = long.MinValue;
    private int _reserve;
    private bool _exhausted;
    private long _lastUsedTicks = DateTimeOffset.UtcNow.UtcTicks;
    private FixedWindowRateLimiter? _local;

    /// <summary>Idle since the last request, so the partitioned limiter drops limiters of owners that went quiet (losing
    /// at most a reserve, which only makes the window stricter).</summary>
    public override TimeSpan? IdleDuration => TimeSpan.FromTicks(DateTimeOffset.UtcNow.UtcTicks - Volatile.Read(ref _lastUsedTicks));

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate) return new RateLimiterStatistics { CurrentAvailablePermits = _reserve };
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        var now = DateTimeOffset.UtcNow;
        if (TryTake(now, permitCount) is { } lease) return lease;
        return windows.Unavailable ? Local().AttemptAcquire(permitCount) : Refused(now);
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (TryTake(DateTimeOffset.UtcNow, permitCount) is { } lease) return lease;
        // One claim at a time per owner and policy on this node: a burst that finds the reserve empty waits for one
        // round-trip and then shares its chunk, instead of sending the burst to the database.
        await _claiming.WaitAsync(cancellationToken);
        try
        {
            var now = DateTimeOffset.UtcNow;
            if (TryTake(now, permitCount) is { } refilled) return refilled;
            var window = SharedRateWindows.WindowStart(now);
            var wanted = Math.Max(chunk, permitCount);
            var granted = await windows.ClaimAsync(_owner, policy, window, wanted, limit, cancellationToken);
            if (granted is null) return Local().AttemptAcquire(permitCount);
            lock (_gate)
            {
                // A claim that straddled the end of its window is void: its permits belonged to the window that ended.
                if (_window == window)
                {
                    _reserve += granted.Value;
                    _exhausted = granted.Value < wanted;
                }
            }
            return TryTake(DateTimeOffset.UtcNow, permitCount) ?? Refused(DateTimeOffset.UtcNow);
        }
        finally
        {
            _claiming.Release();
        }
    }

    /// <summary>A granted lease from the reserve; a refusal when this window is spent for the cluster; null when the
    /// reserve is short but the shared window may still have permits.</summary>
    private RateLimitLease? TryTake(DateTimeOffset now, int permitCount)
    {
        Volatile.Write(ref _lastUsedTicks, now.UtcTicks);
        if (permitCount > limit) return Refused(now);
        lock (_gate)
        {
            var window = SharedRateWindows.WindowStart(now);
            if (window != _window)
            {
                _window = window;
                _reserve = 0;
                _exhausted = false;
            }
            if (_reserve >= permitCount)
            {
                _reserve -= permitCount;
                return Lease.Granted;
            }
            return _exhausted ? Refused(now) : null;
        }
    }

    private static Lease Refused(DateTimeOffset now)
    {
        var end = DateTimeOffset.FromUnixTimeSeconds(SharedRateWindows.WindowStart(now)) + SharedRateWindows.Window;
        return new Lease(false, end - now);
    }

    private FixedWindowRateLimiter Local()
    {
        lock (_gate)
        {
            return _local ??= new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
            {
                PermitLimit = limit,
                Window = SharedRateWindows.Window,
                QueueLimit = 0,
            });
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _claiming.Dispose();
            _local?.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
