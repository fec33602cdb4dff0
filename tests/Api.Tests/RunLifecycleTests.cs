using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Tests;

/// <summary>Cancel, delete, look-ups and their errors, on runs placed in the database directly (no training).</summary>
public class RunLifecycleTests : ServiceTests
{
    // No job server pick-up matters here: the rows are written without being queued.

    public RunLifecycleTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="RunLifecycleTestsOnPostgres"/>).</summary>
    protected RunLifecycleTests(PostgresServer? postgres) : base(postgres)
    {
    }

    private async Task<Run> AddAsync(Run run, int epochs = 0, params WeightsKind[] weights)
    {
        await using var db = _factory.NewDbContext();
        db.Runs.Add(run);
        for (var e = 1; e <= epochs; e++)
            db.EpochMetrics.Add(new EpochMetric { RunId = run.Id, Epoch = e, LogsJson = $$"""{"loss":{{1.0 / e}}}""", Loss = 1.0 / e, RecordedAt = DateTimeOffset.UtcNow });
        foreach (var kind in weights)
            db.RunWeights.Add(new RunWeights { RunId = run.Id, Kind = kind, Epoch = epochs, Data = [1, 2, 3, (byte)kind], CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return run;
    }

    [Fact]
    public async Task Cancel_MarksQueuedRunCancelled_AndAnswers409Afterwards()
    {
        var client = _factory.CreateClient();
        var run = await AddAsync(TestData.QueuedRun());

        var first = await client.PostAsync($"/api/runs/{run.Id}/cancel", null);
        var second = await client.PostAsync($"/api/runs/{run.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("cancelled", (await first.JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        await using var db = _factory.NewDbContext();
        var stored = await db.Runs.SingleAsync(r => r.Id == run.Id);
        Assert.Equal(RunStatus.Cancelled, stored.Status);
        Assert.NotNull(stored.FinishedAt);
    }

    [Fact]
    public async Task Cancel_Answers409_ForSucceededRun_AndChangesNothing()
    {
        var run = TestData.QueuedRun();
        run.Status = RunStatus.Succeeded;
        await AddAsync(run);

        var response = await _factory.CreateClient().PostAsync($"/api/runs/{run.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        await using var db = _factory.NewDbContext();
        Assert.Equal(RunStatus.Succeeded, (await db.Runs.SingleAsync(r => r.Id == run.Id)).Status);
        Assert.False((await db.Runs.SingleAsync(r => r.Id == run.Id)).CancelRequested);
    }

    [Fact]
    public async Task Delete_RemovesRunWithItsMetricsAndWeights_AndOnlyThatRun()
    {
        var doomed = await AddAsync(TestData.QueuedRun("a"), epochs: 3, WeightsKind.Checkpoint, WeightsKind.Final);
        await AddAsync(TestData.QueuedRun("b"), epochs: 2, WeightsKind.Checkpoint);
        Assert.Equal((2, 5, 3), _factory.CountRows());

        var response = await _factory.CreateClient().DeleteAsync($"/api/runs/{doomed.Id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal((1, 2, 1), _factory.CountRows());
        Assert.Equal(HttpStatusCode.NotFound, (await _factory.CreateClient().GetAsync($"/api/runs/{doomed.Id}")).StatusCode);
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/evaluation")]
    [InlineData("GET", "/events")]
    [InlineData("GET", "/weights")]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/predict")]
    [InlineData("DELETE", "")]
    public async Task UnknownRun_Answers404ProblemDetails(string method, string suffix)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), $"/api/runs/{Guid.NewGuid()}{suffix}");
        if (method == "POST") request.Content = new StringContent("""{"instances":[[1]]}""", Encoding.UTF8, "application/json");

        var response = await _factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(RunStatus.Queued)]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.Failed)]
    public async Task Predict_Answers409_BeforeTheRunHasSucceeded(RunStatus status)
    {
        var run = TestData.QueuedRun();
        run.Status = status;
        await AddAsync(run);

        var response = await _factory.CreateClient().PostAsync($"/api/runs/{run.Id}/predict",
            new StringContent("""{"instances":[[1]]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_ListsEpochsInOrder_WithLogsFlattened()
    {
        var run = await AddAsync(TestData.QueuedRun(), epochs: 3);

        var body = await (await _factory.CreateClient().GetAsync($"/api/runs/{run.Id}/metrics")).JsonAsync();

        Assert.Equal([1, 2, 3], body.EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Equal(0.5, body[1].GetProperty("loss").GetDouble(), 12);
        Assert.True(body[1].TryGetProperty("learning_rate", out _));
    }

    [Fact]
    public async Task Weights_DownloadsTheRequestedKind_And404sForMissingKind()
    {
        var run = await AddAsync(TestData.QueuedRun("w"), epochs: 2, WeightsKind.Checkpoint);
        var client = _factory.CreateClient();

        var checkpoint = await client.GetAsync($"/api/runs/{run.Id}/weights?kind=checkpoint");
        var final = await client.GetAsync($"/api/runs/{run.Id}/weights");
        var bad = await client.GetAsync($"/api/runs/{run.Id}/weights?kind=everything");

        Assert.Equal(HttpStatusCode.OK, checkpoint.StatusCode);
        Assert.Equal([1, 2, 3, (byte)WeightsKind.Checkpoint], await checkpoint.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", checkpoint.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, final.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task List_IsNewestFirst_PagedAndFiltered()
    {
        for (var i = 0; i < 5; i++)
        {
            var run = TestData.QueuedRun(i % 2 == 0 ? "even" : "odd");
            run.CreatedAt = DateTimeOffset.UtcNow.AddMinutes(i);
            run.Status = i == 4 ? RunStatus.Succeeded : RunStatus.Queued;
            await AddAsync(run);
        }
        var client = _factory.CreateClient();

        var page1 = await (await client.GetAsync("/api/runs?page_size=2")).JsonAsync();
        var evens = await (await client.GetAsync("/api/runs?name=even")).JsonAsync();
        var succeeded = await (await client.GetAsync("/api/runs?status=succeeded")).JsonAsync();

        Assert.Equal(5, page1.GetProperty("total").GetInt32());
        var times = page1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("created_at").GetDateTimeOffset()).ToList();
        Assert.Equal(2, times.Count);
        Assert.True(times[0] > times[1]);
        Assert.Equal(3, evens.GetProperty("total").GetInt32());
        Assert.Equal(1, succeeded.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Health_ReportsDatabaseJobServerAndLibTorch()
    {
        var response = await _factory.CreateClient().GetAsync("/health");
        var body = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        foreach (var check in new[] { "database", "job_server", "libtorch" })
            Assert.Equal("healthy", body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Catalog_ListsTheEngineRegistries_WithLayerKeysAndDefaults()
    {
        var catalog = await (await _factory.CreateClient().GetAsync("/api/catalog")).JsonAsync();

        var dense = catalog.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "Dense");
        var activation = dense.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("name").GetString() == "activation");
        Assert.Equal("linear", activation.GetProperty("default").GetString());
        foreach (var layer in new[] { "Conv2D", "LSTM", "Embedding", "MaxPooling2D", "Flatten", "BatchNormalization" })
            Assert.Contains(catalog.GetProperty("layers").EnumerateArray(), l => l.GetProperty("name").GetString() == layer);
        string[] Names(string section) => catalog.GetProperty(section).EnumerateArray().Select(o => o.GetProperty("name").GetString()!).ToArray();
        Assert.Contains("Adam", Names("optimizers"));
        Assert.Contains("categorical_crossentropy", Names("losses"));
        Assert.Contains("accuracy", Names("metrics"));
        Assert.Contains("EarlyStopping", Names("callbacks"));
        var adam = catalog.GetProperty("optimizers").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "Adam");
        var epsilon = adam.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("name").GetString() == "epsilon");
        Assert.Equal(1e-7, epsilon.GetProperty("default").GetDouble(), 12);
        Assert.Contains("relu", catalog.GetProperty("activations").EnumerateArray().Select(o => o.GetString()));
    }

    [Fact]
    public async Task OpenApiDocument_CarriesAWorkedExampleForSubmittingARun()
    {
        var doc = await (await _factory.CreateClient().GetAsync("/openapi/v1.json")).JsonAsync();

        var example = doc.GetProperty("paths").GetProperty("/api/runs").GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal("digits", example.GetProperty("dataset").GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _factory.CreateClient().GetAsync("/swagger/index.html")).StatusCode);
    }
}

/// <summary>Every test of <see cref="RunLifecycleTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RunLifecycleTestsOnPostgres(PostgresServer postgres) : RunLifecycleTests(postgres);
