using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Tests;

/// <summary><c>/metrics</c>, <c>/health</c> and run-scoped logs, on the real app.</summary>
public sealed class ObservabilityTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    // Each app is a distinct node, so its series are told apart even if another app in this process shared a meter.
    private static string NewNode() => $"node-{Guid.NewGuid():N}"[..17];

    [Fact]
    public async Task Metrics_ExposeTrainingAndServingSeries_LabelledWithNodeAndRole()
    {
        var node = NewNode();
        using var factory = new ServiceFactory(("Service:NodeName", node));
        var client = factory.CreateClient();
        const string model = "metered-digits";
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 2, name: model))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(id, Deadline)).Status());
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/models/{model}/predict", Specs.Json(Specs.DigitInstances))).StatusCode);

        var scrape = await PrometheusText.ScrapeAsync(client);

        (string, string)[] me = [("node", node), ("role", "all")];
        Assert.Equal(2, scrape.Value("trainingservice_epochs_total", me));
        var samples = scrape.Value("trainingservice_samples_total", me)!.Value;
        Assert.True(samples > 0 && samples % 2 == 0 && samples < 2 * 1797, $"2 epochs of at most 1797 digits each, got {samples}");
        Assert.Equal(2, scrape.Value("trainingservice_epoch_duration_seconds_count", me));
        Assert.True(scrape.Value("trainingservice_epoch_duration_seconds_sum", me) > 0);
        Assert.Equal(2, scrape.Value("trainingservice_epoch_duration_seconds_bucket", [.. me, ("le", "+Inf")]));
        (string, string)[] served = [.. me, ("model", model)];
        Assert.Equal(2, scrape.Value("trainingservice_prediction_duration_seconds_count", served));
        Assert.True(scrape.Where("trainingservice_prediction_duration_seconds_bucket", served).Count() > 5, "latency buckets");
        Assert.Equal(1, scrape.Value("trainingservice_model_cache_misses_total", served));
        Assert.Equal(1, scrape.Value("trainingservice_model_cache_hits_total", served));
        Assert.Equal(1, scrape.Value("trainingservice_runs", [.. me, ("status", "succeeded")]));
        Assert.Equal(0, scrape.Value("trainingservice_runs", [.. me, ("status", "running")]));
        Assert.Equal(0, scrape.Value("trainingservice_runs_queued", me));
        Assert.Equal(0, scrape.Value("trainingservice_lease_recoveries_total", [.. me, ("reason", "lease_lapsed")]));
        Assert.NotNull(scrape.Value("trainingservice_lease_renewals_total", me));
        Assert.Contains("# TYPE trainingservice_epoch_duration_seconds histogram", scrape.Text);
    }

    [Fact]
    public async Task Metrics_ShowQueueDepthAndLeaseRenewals_WhileARunTrains()
    {
        var node = NewNode();
        // A 3 s lease is renewed every second.
        using var factory = new ServiceFactory(("Service:NodeName", node), ("Training:LeaseSeconds", "3"), ("Training:MaxConcurrentRuns", "1"));
        var client = factory.CreateClient();
        var first = (await client.SubmitAsync(Specs.Digits(epochs: 1000, name: null))).Id();
        var second = (await client.SubmitAsync(Specs.Digits(epochs: 1000, name: null))).Id();
        (string, string)[] me = [("node", node), ("role", "all")];

        var until = DateTime.UtcNow + Deadline;
        PrometheusText scrape;
        do
        {
            await Task.Delay(200);
            scrape = await PrometheusText.ScrapeAsync(client);
        } while (!(scrape.Value("trainingservice_lease_renewals_total", me) >= 1 && scrape.Value("trainingservice_runs", [.. me, ("status", "running")]) == 1)
                 && DateTime.UtcNow < until);

        await client.PostAsync($"/api/runs/{second}/cancel", null);
        await client.PostAsync($"/api/runs/{first}/cancel", null);
        Assert.True(scrape.Value("trainingservice_lease_renewals_total", me) >= 1, scrape.Text);
        Assert.Equal(1, scrape.Value("trainingservice_runs", [.. me, ("status", "running")]));
        Assert.Equal(1, scrape.Value("trainingservice_runs_queued", me));
        Assert.Equal(1, scrape.Value("trainingservice_runs", [.. me, ("status", "queued")]));
        await client.WaitForEndAsync(first, Deadline);
    }

    [Fact]
    public async Task Metrics_CountARecovery_WhenARunsLeaseLapses()
    {
        var node = NewNode();
        using var factory = new ServiceFactory(("Service:NodeName", node));
        var client = factory.CreateClient();
        (string, string)[] lapsed = [("node", node), ("role", "all"), ("reason", "lease_lapsed")];
        Assert.Equal(0, (await PrometheusText.ScrapeAsync(client)).Value("trainingservice_lease_recoveries_total", lapsed));
        var orphan = TestData.QueuedRun();
        orphan.Status = RunStatus.Running;
        orphan.StartedAt = DateTimeOffset.UtcNow.AddMinutes(-2);
        orphan.LeaseOwner = "another-machine/dead";
        orphan.LeaseExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        await using (var db = factory.NewDbContext())
        {
            db.Runs.Add(orphan);
            await db.SaveChangesAsync();
        }

        var until = DateTime.UtcNow + Deadline;
        double? recovered;
        do
        {
            await Task.Delay(200);
            recovered = (await PrometheusText.ScrapeAsync(client)).Value("trainingservice_lease_recoveries_total", lapsed);
        } while (recovered < 1 && DateTime.UtcNow < until);

        await client.WaitForEndAsync(orphan.Id, Deadline);
        Assert.Equal(1, (await PrometheusText.ScrapeAsync(client)).Value("trainingservice_lease_recoveries_total", lapsed));
    }

    [Fact]
    public async Task Health_OnAnAllInOneNode_ReportsRoleNodeDatabaseAndJobServer()
    {
        var node = NewNode();
        using var factory = new ServiceFactory(("Service:NodeName", node));
        var client = factory.CreateClient();

        var health = await (await client.GetAsync("/health")).JsonAsync();
        var live = await client.GetAsync("/health/live");

        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("all", health.GetProperty("role").GetString());
        Assert.Equal(node, health.GetProperty("node").GetString());
        var checks = health.GetProperty("checks");
        Assert.Equal(["database", "job_server", "libtorch"], checks.EnumerateObject().Select(c => c.Name).Order().ToArray());
        Assert.Equal("0 run(s)", checks.GetProperty("database").GetProperty("description").GetString());
        Assert.StartsWith("1 job server(s)", checks.GetProperty("job_server").GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var liveBody = await live.JsonAsync();
        Assert.Equal("all", liveBody.GetProperty("role").GetString());
        Assert.Empty(liveBody.GetProperty("checks").EnumerateObject());
    }

    [Fact]
    public async Task RunLogs_CarryTheRunId_InTheJobTheDatabaseCallsAndTheEventStream()
    {
        var capture = new LogCapture();
        using var service = new ServiceFactory(("Service:NodeName", NewNode()));
        using var factory = service.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddLogging(l => l
            .AddProvider(capture)
            .AddFilter<LogCapture>(null, LogLevel.Debug))));
        var client = factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 1, name: null))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(id, Deadline)).Status());
        await client.ReadEventsAsync(id, Deadline);

        var runId = id.ToString();
        bool Scoped(LogCapture.Entry e) => e.Scopes.TryGetValue("RunId", out var v) && v?.ToString() == runId;
        var entries = capture.Entries.ToList();
        var job = entries.Where(e => e.Category == "TrainingService.Api.Jobs.TrainRunJob").ToList();
        Assert.Contains(job, e => e.Message.Contains("succeeded"));
        Assert.All(job, e => Assert.True(Scoped(e), $"no RunId scope on: {e.Message}"));
        // The scope reaches what the job calls, not only the job's own lines.
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal) && Scoped(e));
        var stream = entries.Where(e => e.Category == "TrainingService.Api.Runs.RunsApi").ToList();
        Assert.Equal(2, stream.Count(Scoped));
        Assert.Contains(stream, e => e.Message.Contains("succeeded"));
    }
}

/// <summary>An api node (which needs PostgreSQL: on SQLite the role is refused at start-up) runs no job server.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ApiNodeHealthTests(PostgresServer postgres)
{
    [Fact]
    public async Task Health_OnAnApiNode_DoesNotDependOnAJobServer()
    {
        using var factory = new ServiceFactory(postgres, ("Service:NodeName", $"node-{Guid.NewGuid():N}"[..17]), ("Service:Role", "api"));
        var client = factory.CreateClient();

        var health = await (await client.GetAsync("/health")).JsonAsync();

        Assert.Equal("api", health.GetProperty("role").GetString());
        Assert.Equal(["database", "libtorch"], health.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order().ToArray());
        var metrics = await PrometheusText.ScrapeAsync(client);
        Assert.NotNull(metrics.Value("trainingservice_runs_queued", ("role", "api")));
    }
}
