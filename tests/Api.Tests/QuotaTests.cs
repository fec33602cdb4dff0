using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Limits;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Tests;

/// <summary>Quotas per principal over the real app: the refusal is a 403 ProblemDetails naming the quota, its limit and
/// the usage, and nothing is written (no run, sweep, upload, audit entry or job). The same tests run on PostgreSQL
/// (<see cref="QuotaTestsOnPostgres"/>), where the owner's lock is an advisory lock instead of SQLite's single writer.</summary>
public class QuotaTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly PostgresServer? _postgres;
    private readonly List<ServiceFactory> _factories = [];

    public QuotaTests() : this(null)
    {
    }

    protected QuotaTests(PostgresServer? postgres) => _postgres = postgres;

    public void Dispose()
    {
        foreach (var f in _factories) f.Dispose();
        GC.SuppressFinalize(this);
    }

    private ServiceFactory Factory(params (string, string)[] settings)
    {
        var factory = new ServiceFactory(_postgres, settings);
        _factories.Add(factory);
        return factory;
    }

    /// <summary>Runs that stay active for the length of a test (cancelled at its end).</summary>
    private static string LongRun(string name) => Specs.Digits(epochs: 1000, batchSize: 1, name: name);

    private static async Task AssertQuotaProblemAsync(HttpResponseMessage response, string quota, long limit)
    {
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(quota, body.GetProperty("quota").GetString());
        Assert.Equal(limit, body.GetProperty("limit").GetInt64());
        Assert.True(body.GetProperty("usage").GetInt64() >= 0);
        Assert.Contains(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ActiveRuns_AboveTheOwnersLimit_AreRefusedWith403_AndNothingIsWritten()
    {
        // The default allows none; the override for 'local' (the owner in Auth:Mode=none) allows two.
        var factory = Factory(("Quotas:MaxActiveRuns", "0"), ("Quotas:Owners:local:MaxActiveRuns", "2"));
        var client = factory.CreateClient();
        var a = (await client.SubmitAsync(LongRun("a"))).Id();
        var b = (await client.SubmitAsync(LongRun("b"))).Id();
        // Runs, audit entries and jobs: what a submission writes (the running one keeps adding epochs and checkpoints).
        var before = (factory.CountRows().Runs, factory.Count("audit"), factory.JobCount());

        using var refused = await client.PostAsync("/api/runs", Specs.Json(LongRun("c")));
        await AssertQuotaProblemAsync(refused, Quotas.ActiveRuns, 2);
        Assert.Equal(before, (factory.CountRows().Runs, factory.Count("audit"), factory.JobCount()));

        // Room again once one has ended.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{a}/cancel", null)).StatusCode);
        await client.WaitForEndAsync(a, Patience);
        var c = (await client.SubmitAsync(LongRun("c"))).Id();
        foreach (var id in new[] { b, c }) await client.PostAsync($"/api/runs/{id}/cancel", null);
    }

    [Fact]
    public async Task ConcurrentSubmissions_CannotTogetherPassTheLimit()
    {
        var factory = Factory(("Quotas:MaxActiveRuns", "3"));
        var client = factory.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostAsync("/api/runs", Specs.Json(LongRun($"r{i}")))));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        Assert.Equal(3, factory.CountRows().Runs);
        foreach (var r in responses.Where(r => r.StatusCode == HttpStatusCode.Accepted))
            await client.PostAsync($"/api/runs/{(await r.JsonAsync()).Id()}/cancel", null);
    }

    [Fact]
    public async Task ASweep_AboveTheConcurrentTrialsLimit_IsRefusedWith403_AndNoSweepIsWritten()
    {
        var factory = Factory(("Quotas:MaxConcurrentTrials", "2"));
        var client = factory.CreateClient();
        string Sweep(int concurrent) => $$$"""
            {"base": {{{SweepSpecs.IrisBase(epochs: 1000, batchSize: 1)}}}, "method": "random", "max_trials": 4, "max_concurrent_trials": {{{concurrent}}},
             "space": {"compile.optimizer.learning_rate": {"log_uniform": [0.0001, 0.01]}}, "objective": {"metric": "val_loss"}}
            """;

        using var tooMany = await client.PostAsync("/api/sweeps", Specs.Json(Sweep(3)));
        await AssertQuotaProblemAsync(tooMany, Quotas.ConcurrentTrials, 2);
        Assert.Equal(0, factory.Count("sweeps"));
        Assert.Equal(0, factory.Count("sweep_trials"));
    }

    [Fact]
    public async Task ConcurrentTrials_OverAllAnOwnersSweeps_NeverPassTheQuota_AndTheTrialsPastItWaitAndThenRun()
    {
        // Two sweeps of three trials, each allowed two at once, under a quota of two: launching by each sweep's own limit
        // would queue four at the first coordinator pass.
        var factory = Factory(("Quotas:MaxConcurrentTrials", "2"));
        var client = factory.CreateClient();
        var sweep = $$$"""
            {"base": {{{SweepSpecs.IrisBase(epochs: 20, batchSize: 4)}}}, "method": "random", "max_trials": 3, "max_concurrent_trials": 2,
             "space": {"compile.optimizer.learning_rate": {"log_uniform": [0.001, 0.01]}}, "objective": {"metric": "val_loss"}}
            """;
        Guid[] sweeps = [(await client.SubmitSweepAsync(sweep)).GetProperty("id").GetGuid(), (await client.SubmitSweepAsync(sweep)).GetProperty("id").GetGuid()];

        var most = 0;
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            await using (var db = factory.NewDbContext())
            {
                var active = await db.Runs.IgnoreQueryFilters()
                    .CountAsync(r => r.Role == RunRoles.Trial && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running));
                Assert.True(active <= 2, $"{active} trials queued or running at once; the quota is 2");
                most = Math.Max(most, active);
                var ended = await db.Sweeps.IgnoreQueryFilters().CountAsync(s => sweeps.Contains(s.Id) && s.FinishedAt != null);
                if (ended == 2) break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the sweeps did not end in time");
            await Task.Delay(20);
        }

        Assert.Equal(2, most);
        foreach (var id in sweeps)
        {
            var done = await (await client.GetAsync($"/api/sweeps/{id}")).JsonAsync();
            Assert.Equal("succeeded", done.Status());
            Assert.Equal(3, done.GetProperty("trials").EnumerateArray().Count(t => t.GetProperty("status").GetString() == "succeeded"));
        }
    }

    [Fact]
    public async Task StoredBytes_CountUploadsAndWeights_AndAnUploadPastThemIsRefused()
    {
        var factory = Factory(("Quotas:MaxStoredBytes", "2500"));
        var client = factory.CreateClient();
        using var first = await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // Each file is 1,027 bytes: a second, different one still fits; a third does not.
        using var second = await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv.Replace("small", "smal2")));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var before = (factory.Count("dataset_uploads"), factory.Count("audit"));
        using var third = await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv.Replace("small", "smal3")));
        await AssertQuotaProblemAsync(third, Quotas.StoredBytes, 2500);
        Assert.Equal(before, (factory.Count("dataset_uploads"), factory.Count("audit")));

        // The same bytes again store nothing new, so they are not refused.
        using var again = await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task StoredBytes_IncludeARunsWeights_SoTheNextSubmissionIsRefused()
    {
        var factory = Factory(("Quotas:MaxStoredBytes", "4096"));
        var client = factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 1, name: "w"))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(id, Patience)).Status());

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<Quotas>().StoredBytesAsync("local", default);
            await using var db = factory.NewDbContext();
            var weights = db.RunWeights.Where(w => w.RunId == id).AsEnumerable().Sum(w => (long)w.Data.Length);
            Assert.Equal(weights, stored);
            Assert.True(stored > 4096, $"{stored} bytes stored");
        }

        var runs = factory.CountRows().Runs;
        using var refused = await client.PostAsync("/api/runs", Specs.Json(Specs.Digits(epochs: 1, name: "w2")));
        await AssertQuotaProblemAsync(refused, Quotas.StoredBytes, 4096);
        Assert.Equal(runs, factory.CountRows().Runs);
    }
}

/// <summary>Every test of <see cref="QuotaTests"/> on PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QuotaTestsOnPostgres(PostgresServer postgres) : QuotaTests(postgres);
