using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Jobs;

namespace TrainingService.Api.Tests;

/// <summary>Two workers: runs train side by side, and a run delivered to two workers at once (as Hangfire's SQLite
/// storage does with jobs that outlive its invisibility timeout) is still trained by exactly one.</summary>
public class ConcurrencyTests : ServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public ConcurrencyTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="ConcurrencyTestsOnPostgres"/>).</summary>
    protected ConcurrencyTests(PostgresServer? postgres) : base(postgres, ("Training:MaxConcurrentRuns", "2"))
    {
    }

    [Fact]
    public async Task ARunQueuedTwice_IsTrainedByOneExecutor_EachEpochOnce()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 4, batchSize: 2))).Id();
        await client.WaitForAsync(id, r => r.Status() == "running", Patience);

        _factory.Services.GetRequiredService<RunQueue>().Enqueue(id); // a second delivery while the first trains
        var run = await client.WaitForEndAsync(id, Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        await using var db = _factory.NewDbContext();
        Assert.Equal([1, 2, 3, 4], await db.EpochMetrics.Where(m => m.RunId == id).OrderBy(m => m.Epoch).Select(m => m.Epoch).ToListAsync());
    }

    [Fact]
    public async Task TwoWorkers_TrainTwoRunsAtTheSameTime()
    {
        var client = _factory.CreateClient();
        var a = (await client.SubmitAsync(Specs.Digits(epochs: 3, batchSize: 2, name: "a"))).Id();
        var b = (await client.SubmitAsync(Specs.Digits(epochs: 3, batchSize: 2, name: "b"))).Id();

        var ra = await client.WaitForEndAsync(a, Patience);
        var rb = await client.WaitForEndAsync(b, Patience);

        // The whole run on failure: its error says why (a failure seen once on a heavily loaded machine left no cause).
        Assert.True(ra.Status() == "succeeded", ra.ToString());
        Assert.True(rb.Status() == "succeeded", rb.ToString());
        var overlap = Min(ra.GetProperty("finished_at").GetDateTimeOffset(), rb.GetProperty("finished_at").GetDateTimeOffset())
                      - Max(ra.GetProperty("started_at").GetDateTimeOffset(), rb.GetProperty("started_at").GetDateTimeOffset());
        Assert.True(overlap > TimeSpan.Zero, $"runs did not overlap ({overlap})");
    }

    private static DateTimeOffset Min(DateTimeOffset x, DateTimeOffset y) => x < y ? x : y;
    private static DateTimeOffset Max(DateTimeOffset x, DateTimeOffset y) => x > y ? x : y;
}

/// <summary>Every test of <see cref="ConcurrencyTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ConcurrencyTestsOnPostgres(PostgresServer postgres) : ConcurrencyTests(postgres);
