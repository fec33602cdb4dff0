using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace TrainingService.Api.Tests;

/// <summary>Real training jobs through the real Hangfire server, over a real SQLite file.</summary>
public class TrainingJobTests : ServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public TrainingJobTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="TrainingJobTestsOnPostgres"/>).</summary>
    protected TrainingJobTests(PostgresServer? postgres) : base(postgres)
    {
    }

    [Fact]
    public async Task SubmittedRun_Trains_RecordsEachEpochOnce_ScoresTheTestSplit_AndPredicts()
    {
        var client = _factory.CreateClient();

        var submitted = await client.SubmitAsync(Specs.Digits(epochs: 8));
        var id = submitted.Id();
        var run = await client.WaitForEndAsync(id, Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(8, run.GetProperty("epochs_completed").GetInt32());
        Assert.True(run.GetProperty("metrics").GetProperty("accuracy").GetDouble() >= 0.9, run.GetProperty("metrics").ToString());
        Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        // The intra-op threads it trained with, and how they were chosen (by default measured on its own steps, unless
        // its share of the cores is one).
        var threads = run.GetProperty("threads");
        Assert.InRange(threads.GetProperty("threads").GetInt32(), 1, Environment.ProcessorCount);
        if (threads.GetProperty("chosen_by").GetString() == "measured")
        {
            Assert.True(threads.GetProperty("trials").GetInt32() >= 1, threads.ToString());
            Assert.Contains(threads.GetProperty("mean_step_ms").EnumerateObject(), m => m.Name == "1" && m.Value.GetDouble() > 0);
        }
        else Assert.Equal("single core", threads.GetProperty("chosen_by").GetString());
        var metrics = await (await client.GetAsync($"/api/runs/{id}/metrics")).JsonAsync();
        Assert.Equal(Enumerable.Range(1, 8), metrics.EnumerateArray().Select(m => m.GetProperty("epoch").GetInt32()));
        foreach (var m in metrics.EnumerateArray())
        {
            Assert.True(m.GetProperty("loss").GetDouble() > 0);
            Assert.True(m.TryGetProperty("val_accuracy", out _), m.ToString());
            Assert.True(m.GetProperty("learning_rate").GetDouble() > 0);
        }
        Assert.True(metrics[7].GetProperty("loss").GetDouble() < metrics[0].GetProperty("loss").GetDouble());

        var prediction = await client.PostJsonAsync($"/api/runs/{id}/predict", Specs.DigitInstances);
        var predictions = prediction.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], predictions.Select(p => p.GetProperty("class").GetInt32()));
        Assert.Equal(["0", "1", "2"], predictions.Select(p => p.GetProperty("label").GetString()));
        Assert.All(predictions, p => Assert.Equal(1.0, p.GetProperty("probabilities").EnumerateArray().Sum(v => v.GetDouble()), 3));

        var weights = await client.GetAsync($"/api/runs/{id}/weights");
        Assert.Equal(HttpStatusCode.OK, weights.StatusCode);
        Assert.True((await weights.Content.ReadAsByteArrayAsync()).Length > 4 * (64 * 32 + 32 * 10));
        Assert.Equal((1, 8, 3), _factory.CountRows()); // checkpoint, best, final
    }

    [Fact]
    public async Task SubmittedRun_IsPickedUpPromptly_AndShowsItsLayerSummary()
    {
        var client = _factory.CreateClient();
        await client.WaitForEndAsync((await client.SubmitAsync(Specs.Digits(epochs: 1))).Id(), Patience); // warm up

        var submitted = await client.SubmitAsync(Specs.Digits(epochs: 1));
        var run = await client.WaitForAsync(submitted.Id(), r => r.TryGetProperty("started_at", out _), TimeSpan.FromSeconds(5));

        var waited = run.GetProperty("started_at").GetDateTimeOffset() - run.GetProperty("created_at").GetDateTimeOffset();
        // Typically ~0.15 s (queue polled every 200 ms); the bound leaves room for a CI machine busy with other tests.
        Assert.True(waited < TimeSpan.FromSeconds(2), $"picked up after {waited.TotalSeconds:F2}s");
        var summary = submitted.GetProperty("summary");
        Assert.Equal(64 * 32 + 32 + 32 * 10 + 10, summary.GetProperty("total_parameters").GetInt64());
        Assert.Contains(summary.GetProperty("layers").EnumerateArray(), l => l.GetProperty("type").GetString() == "Dense");
        Assert.Equal("digits", submitted.GetProperty("spec").GetProperty("dataset").GetProperty("name").GetString());
    }

    [Fact]
    public async Task EventStream_ReplaysAndFollowsEveryEpoch_ThenTheFinalStatus()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 4))).Id();

        var events = await client.ReadEventsAsync(id, Patience);

        var epochs = events.Where(e => e.Type == "epoch").Select(e => e.Data.GetProperty("epoch").GetInt32()).ToList();
        Assert.Equal([1, 2, 3, 4], epochs);
        Assert.Equal("status", events[^1].Type);
        Assert.Equal("succeeded", events[^1].Data.GetProperty("status").GetString());
        Assert.True(events[^1].Data.GetProperty("metrics").GetProperty("accuracy").GetDouble() > 0.5);
    }

    [Fact]
    public async Task IdempotencyKey_ReturnsTheSameRun_AndRefusesADifferentBody()
    {
        var client = _factory.CreateClient();

        using var firstRequest = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = Specs.Json(Specs.Digits(epochs: 1)) };
        firstRequest.Headers.Add("Idempotency-Key", "key-1");
        var firstResponse = await client.SendAsync(firstRequest);
        var first = await firstResponse.JsonAsync();
        Assert.Equal(HttpStatusCode.Accepted, firstResponse.StatusCode);
        Assert.Equal($"/api/runs/{first.Id()}", firstResponse.Headers.Location?.ToString());
        var retry = await client.SubmitAsync(Specs.Digits(epochs: 1), "key-1");
        using var other = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = Specs.Json(Specs.Digits(epochs: 2)) };
        other.Headers.Add("Idempotency-Key", "key-1");
        var conflict = await client.SendAsync(other);

        Assert.Equal(first.Id(), retry.Id());
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(1, _factory.CountRows().Runs);
        await client.WaitForEndAsync(first.Id(), Patience);
    }

    [Fact]
    public async Task SubmitRun_Answers400AtTheModelPath_ForAnInvalidModel_AndWritesNothing()
    {
        var client = _factory.CreateClient();
        var spec = Specs.Digits().Replace("\"units\": 32", "\"units\": -3").Replace("\"epochs\": 5", "\"epochs\": -1");

        var response = await client.PostAsync("/api/runs", Specs.Json(spec));
        var keys = (await response.JsonAsync()).ErrorKeys();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("model.layers[1].units", keys);
        Assert.Contains("fit.epochs", keys);
        Assert.Equal((0, 0, 0), _factory.CountRows());
        Assert.Equal(0, _factory.JobCount());
    }

    [Fact]
    public async Task SubmitRun_Answers400_WhenTheDataDoesNotFitTheModel()
    {
        var spec = Specs.Digits().Replace("\"input_shape\": [8, 8]", "\"input_shape\": [28, 28]");

        var response = await _factory.CreateClient().PostAsync("/api/runs", Specs.Json(spec));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("model.input_shape", (await response.JsonAsync()).ErrorKeys());
        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    [Fact]
    public async Task Cancel_StopsARunningRunWithinAFewBatches_KeepingTheEpochsItFinished()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 500, batchSize: 4))).Id();
        await client.WaitForAsync(id, r => r.GetProperty("epochs_completed").GetInt32() >= 1, Patience);

        var cancel = await client.PostAsync($"/api/runs/{id}/cancel", null);
        var run = await client.WaitForEndAsync(id, Patience);
        await _factory.WaitForIdleJobsAsync(Patience);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("cancelled", run.Status());
        Assert.True(run.GetProperty("epochs_completed").GetInt32() < 500);
        run = await client.GetRunAsync(id);   // nothing written after the end
        Assert.Equal("cancelled", run.Status());
        var metrics = await (await client.GetAsync($"/api/runs/{id}/metrics")).JsonAsync();
        Assert.Equal(run.GetProperty("epochs_completed").GetInt32(), metrics.GetArrayLength());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/runs/{id}/predict", Specs.Json(Specs.DigitInstances))).StatusCode);
    }

    [Fact]
    public async Task Delete_OfARunningRun_StopsItAndLeavesNoRows()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 500, batchSize: 4))).Id();
        await client.WaitForAsync(id, r => r.GetProperty("epochs_completed").GetInt32() >= 1, Patience);

        var response = await client.DeleteAsync($"/api/runs/{id}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        // The executor notices within a batch and must not write again: count once it has returned.
        await _factory.WaitForIdleJobsAsync(Patience);

        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    [Fact]
    public async Task Models_ResolveANameToItsNewestSucceededRun()
    {
        var client = _factory.CreateClient();
        var older = (await client.SubmitAsync(Specs.Digits(epochs: 2, name: "reader"))).Id();
        await client.WaitForEndAsync(older, Patience);
        var newer = (await client.SubmitAsync(Specs.Digits(epochs: 3, name: "reader"))).Id();
        await client.WaitForEndAsync(newer, Patience);

        var models = await (await client.GetAsync("/api/models")).JsonAsync();
        var model = await (await client.GetAsync("/api/models/reader")).JsonAsync();
        var prediction = await client.PostJsonAsync("/api/models/reader/predict", Specs.DigitInstances);
        var missing = await client.PostAsync("/api/models/nobody/predict", Specs.Json(Specs.DigitInstances));
        var missingModel = await client.GetAsync("/api/models/nobody");

        var reader = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "reader");
        Assert.Equal(newer, reader.GetProperty("run_id").GetGuid());
        Assert.Equal(2, reader.GetProperty("versions").GetInt32());
        Assert.Equal(newer, model.GetProperty("run_id").GetGuid());
        Assert.Equal(2, model.GetProperty("versions").GetInt32());
        Assert.Equal(newer, prediction.GetProperty("run_id").GetGuid());
        Assert.Equal(3, prediction.GetProperty("predictions").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missingModel.StatusCode);
    }

    [Fact]
    public async Task Predict_Answers400NamingTheExpectedShape_ForAWrongOne_AndTheServiceKeepsServing()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 1))).Id();
        await client.WaitForEndAsync(id, Patience);

        var wrong = await client.PostAsync($"/api/runs/{id}/predict", Specs.Json("""{"instances": [[1, 2, 3]]}"""));
        var problem = await wrong.JsonAsync();
        var right = await client.PostAsync($"/api/runs/{id}/predict", Specs.Json(Specs.DigitInstances));

        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        var messages = string.Join(" ", problem.GetProperty("errors").EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(v => v.GetString())));
        Assert.Contains("8", messages);
        Assert.StartsWith("instances", problem.ErrorKeys()[0]);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task Predict_AfterDelete_Answers404_EvenWhenTheModelWasServedFromTheCache()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 1))).Id();
        await client.WaitForEndAsync(id, Patience);
        var first = await client.PostAsync($"/api/runs/{id}/predict", Specs.Json(Specs.DigitInstances));
        var cached = await client.PostAsync($"/api/runs/{id}/predict", Specs.Json(Specs.DigitInstances));

        var deleted = await client.DeleteAsync($"/api/runs/{id}");
        var after = await client.PostAsync($"/api/runs/{id}/predict", Specs.Json(Specs.DigitInstances));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task DataThatIsGoneByTrainingTime_FailsTheRunWithAReadableError_Once()
    {
        var client = _factory.CreateClient();
        var run = TestData.QueuedRun();
        var missing = new string('a', 64);
        run.SpecJson = Specs.Digits(epochs: 1).Replace("\"name\": \"digits\", \"preprocessing\": {\"rescale\": 0.0625, \"test_fraction\": 0.2, \"seed\": 1} }",
            $"\"name\": \"csv:{missing}\", \"target\": \"label\" }}");
        Assert.Contains(missing, run.SpecJson);
        await using (var db = _factory.NewDbContext())
        {
            db.Runs.Add(run);
            await db.SaveChangesAsync();
        }

        _factory.Services.GetRequiredService<TrainingService.Api.Jobs.RunQueue>().Enqueue(run.Id);
        var ended = await client.WaitForEndAsync(run.Id, Patience);

        Assert.Equal("failed", ended.Status());
        Assert.Contains("upload", ended.GetProperty("error").GetString());
        Assert.Equal(1, ended.GetProperty("attempts").GetInt32());
        Assert.Equal(0, ended.GetProperty("epochs_completed").GetInt32());
    }

    [Fact]
    public async Task Predict_TakesImageFiles_ForAnImageModel()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 8))).Id();
        await client.WaitForEndAsync(id, Patience);
        using var instances = JsonDocument.Parse(Specs.DigitInstances);
        using var form = new MultipartFormDataContent();
        var i = 0;
        foreach (var digit in instances.RootElement.GetProperty("instances").EnumerateArray())
        {
            // The stored pixels (0-16) as an 8x8 greyscale PNG: the same example, sent as a file.
            using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(8, 8);
            var rows = digit.EnumerateArray().ToArray();
            for (var y = 0; y < 8; y++)
                for (var x = 0; x < 8; x++)
                    image[x, y] = new SixLabors.ImageSharp.PixelFormats.L8((byte)rows[y][x].GetInt32());
            using var png = new MemoryStream();
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, png);
            form.Add(new ByteArrayContent(png.ToArray()), "file", $"digit{i++}.png");
        }

        var response = await client.PostAsync($"/api/runs/{id}/predict", form);
        var body = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([0, 1, 2], body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("class").GetInt32()));
    }

    [Fact]
    public async Task QueuedRuns_WaitForTheSingleWorker_AndAllFinish()
    {
        var client = _factory.CreateClient();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++) ids.Add((await client.SubmitAsync(Specs.Digits(epochs: 2, name: $"q{i}"))).Id());

        var runs = new List<JsonElement>();
        foreach (var id in ids) runs.Add(await client.WaitForEndAsync(id, Patience));

        Assert.All(runs, r => Assert.Equal("succeeded", r.Status()));
        // One worker (Training:MaxConcurrentRuns = 1): no two runs overlapped.
        var spans = runs.Select(r => (Start: r.GetProperty("started_at").GetDateTimeOffset(), End: r.GetProperty("finished_at").GetDateTimeOffset()))
            .OrderBy(s => s.Start).ToList();
        for (var i = 1; i < spans.Count; i++) Assert.True(spans[i].Start >= spans[i - 1].End);
        await using var db = _factory.NewDbContext();
        Assert.Equal(6, await db.EpochMetrics.CountAsync());
    }
}

/// <summary>Every test of <see cref="TrainingJobTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TrainingJobTestsOnPostgres(PostgresServer postgres) : TrainingJobTests(postgres);
