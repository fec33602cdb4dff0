using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Jobs;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Tests;

/// <summary>The runs table decides who trains a run: claims, renewals, recovery and epoch writes are all
/// conditional updates, tested here against the real SQLite file with competing contexts.</summary>
public class LeaseTests : ServiceTests
{

    public LeaseTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="LeaseTestsOnPostgres"/>).</summary>
    protected LeaseTests(PostgresServer? postgres) : base(postgres)
    {
    }

    private async Task<Guid> AddQueuedAsync()
    {
        await using var db = _factory.NewDbContext();
        var run = TestData.QueuedRun();
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    [Fact]
    public async Task Claim_LetsExactlyOneOfManyConcurrentExecutorsThrough()
    {
        _ = _factory.Services; // start the app so the schema exists
        var id = await AddQueuedAsync();
        var now = DateTimeOffset.UtcNow;

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            await using var db = _factory.NewDbContext();
            return await db.TryClaimAsync(id, $"executor-{i}", now, TimeSpan.FromSeconds(30), CancellationToken.None);
        }));

        Assert.Equal(1, results.Count(r => r));
        await using var check = _factory.NewDbContext();
        var run = await check.Runs.SingleAsync(r => r.Id == id);
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Equal(1, run.Attempts);
        Assert.Equal($"executor-{Array.IndexOf(results, true)}", run.LeaseOwner);
    }

    [Fact]
    public async Task Recovery_RequeuesALapsedLeaseOnce_AndTheOldExecutorCanNoLongerRenew()
    {
        _ = _factory.Services;
        var id = await AddQueuedAsync();
        var start = DateTimeOffset.UtcNow;
        await using var db = _factory.NewDbContext();
        Assert.True(await db.TryClaimAsync(id, "old", start, TimeSpan.FromSeconds(1), CancellationToken.None));

        var later = start.AddSeconds(5);
        var first = await db.RequeueAbandonedAsync(later, CancellationToken.None);
        var second = await db.RequeueAbandonedAsync(later, CancellationToken.None);

        Assert.Equal([id], first);
        Assert.Empty(second);
        Assert.False(await db.TryRenewAsync(id, "old", later, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.True(await db.TryClaimAsync(id, "new", later, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(2, (await db.Runs.AsNoTracking().SingleAsync(r => r.Id == id)).Attempts);
    }

    [Fact]
    public async Task Recovery_EndsALapsedRunAsCancelled_WhenItsCancelWasRequested()
    {
        _ = _factory.Services;
        var id = await AddQueuedAsync();
        var start = DateTimeOffset.UtcNow;
        await using var db = _factory.NewDbContext();
        Assert.True(await db.TryClaimAsync(id, "crashed", start, TimeSpan.FromSeconds(1), CancellationToken.None));
        await db.Runs.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true));

        Assert.Empty(await db.RequeueAbandonedAsync(start.AddSeconds(5), CancellationToken.None));

        var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == id);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.NotNull(run.FinishedAt);
        Assert.Null(run.LeaseOwner);
        Assert.False(await db.TryClaimAsync(id, "new", start.AddSeconds(5), TimeSpan.FromSeconds(30), CancellationToken.None));
    }

    [Fact]
    public async Task Recovery_LeavesALiveLeaseAlone()
    {
        _ = _factory.Services;
        var id = await AddQueuedAsync();
        var now = DateTimeOffset.UtcNow;
        await using var db = _factory.NewDbContext();
        await db.TryClaimAsync(id, "alive", now, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Empty(await db.RequeueAbandonedAsync(now.AddSeconds(10), CancellationToken.None));
        Assert.True(await db.TryRenewAsync(id, "alive", now.AddSeconds(10), TimeSpan.FromSeconds(30), CancellationToken.None));
    }

    [Fact]
    public async Task EpochRecorder_WritesEachEpochOnce_AndRefusesWhenTheLeaseIsGone()
    {
        _ = _factory.Services;
        var id = await AddQueuedAsync();
        await using var db = _factory.NewDbContext();
        await db.TryClaimAsync(id, "me", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30), CancellationToken.None);
        var recorder = new EpochRecorder(db, id, "me", TimeSpan.FromSeconds(30), TimeProvider.System, new RunEvents(new LocalSignals()), bestSoFar: null);
        var logs1 = new Dictionary<string, double> { ["loss"] = 0.9, ["val_loss"] = 1.0 };
        var logs2 = new Dictionary<string, double> { ["loss"] = 0.5, ["val_loss"] = 1.2 };

        recorder.OnEpochEnd(new(1, logs1, 0.001, 0.1), () => [1]);
        recorder.OnEpochEnd(new(2, logs2, 0.001, 0.1), () => [2]);
        Assert.Throws<LeaseLostException>(() => recorder.OnEpochEnd(new(2, logs2, 0.001, 0.1), () => [2]));
        var stranger = new EpochRecorder(db, id, "someone-else", TimeSpan.FromSeconds(30), TimeProvider.System, new RunEvents(new LocalSignals()), null);
        Assert.Throws<LeaseLostException>(() => stranger.OnEpochEnd(new(3, logs2, 0.001, 0.1), () => [3]));

        Assert.Equal((1, 2, 2), _factory.CountRows());
        var weights = await db.RunWeights.AsNoTracking().Where(w => w.RunId == id).ToDictionaryAsync(w => w.Kind);
        Assert.Equal(2, weights[WeightsKind.Checkpoint].Epoch);
        Assert.Equal(1, weights[WeightsKind.Best].Epoch); // val_loss was lowest after epoch 1
        Assert.Equal(2, (await db.Runs.AsNoTracking().SingleAsync(r => r.Id == id)).EpochsCompleted);
    }
}

/// <summary>Every test of <see cref="LeaseTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LeaseTestsOnPostgres(PostgresServer postgres) : LeaseTests(postgres);
