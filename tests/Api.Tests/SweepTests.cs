using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Sweeps;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Tests;

/// <summary>Sweeps through the real job server: grid, random, ASHA, promotion, cancel, validation up front.</summary>
public class SweepTests : ServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    public SweepTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="SweepTestsOnPostgres"/>).</summary>
    protected SweepTests(PostgresServer? postgres) : base(postgres, ("Training:MaxConcurrentRuns", "2"))
    {
    }

    [Fact]
    public async Task Grid_RunsExactlyTheProductOfChoices_SortsByObjective_AndPromotesTheBest()
    {
        var client = _factory.CreateClient();
        var body = $$$"""
            {"name": "iris-grid", "base": {{{SweepSpecs.IrisBase(epochs: 3)}}}, "method": "grid",
             "space": {"model.layers[0].units": {"choice": [4, 16, 32]}, "compile.optimizer.learning_rate": {"choice": [0.003, 0.03]}},
             "objective": {"metric": "val_accuracy", "mode": "max"}, "max_concurrent_trials": 2, "promote_to": "iris-best"}
            """;
        var submitted = await client.SubmitSweepAsync(body);
        var id = submitted.Id();
        Assert.Equal(6, submitted.GetProperty("max_trials").GetInt32());

        var sweep = await client.WaitForSweepEndAsync(id, Patience);
        Assert.Equal("succeeded", sweep.Status());
        var trials = sweep.Trials();
        var points = trials.OrderBy(t => t.GetProperty("number").GetInt32())
            .Select(t => (t.GetProperty("params").GetProperty("model.layers[0].units").GetInt32(),
                          t.GetProperty("params").GetProperty("compile.optimizer.learning_rate").GetDouble())).ToList();
        Assert.Equal([(4, 0.003), (4, 0.03), (16, 0.003), (16, 0.03), (32, 0.003), (32, 0.03)], points);
        Assert.All(trials, t => Assert.Equal("succeeded", t.GetProperty("status").GetString()));

        // Each trial is a run whose spec carries its values at the paths; its metrics are its own.
        foreach (var t in trials)
        {
            var run = await client.GetRunAsync(t.GetProperty("run_id").GetGuid());
            var spec = run.GetProperty("spec");
            Assert.Equal(t.GetProperty("params").GetProperty("model.layers[0].units").GetInt32(), spec.GetProperty("model").GetProperty("layers")[0].GetProperty("units").GetInt32());
            Assert.Equal(t.GetProperty("params").GetProperty("compile.optimizer.learning_rate").GetDouble(), spec.GetProperty("compile").GetProperty("optimizer").GetProperty("learning_rate").GetDouble());
            var epochs = await (await client.GetAsync($"/api/runs/{run.Id()}/metrics")).JsonAsync();
            Assert.Equal(t.GetProperty("objective").GetDouble(), epochs[2].GetProperty("val_accuracy").GetDouble());
        }

        // Sorted best first; the best spec is the base with the best trial's values.
        var objectives = trials.Select(t => t.GetProperty("objective").GetDouble()).ToList();
        Assert.Equal(objectives.OrderByDescending(v => v), objectives);
        var best = sweep.GetProperty("best");
        Assert.Equal(trials[0].GetProperty("number").GetInt32(), best.GetProperty("number").GetInt32());
        Assert.Equal(best.GetProperty("params").GetProperty("model.layers[0].units").GetInt32(),
            sweep.GetProperty("best_spec").GetProperty("model").GetProperty("layers")[0].GetProperty("units").GetInt32());

        // Promotion: the model name answers with the best trial's weights.
        var promoted = sweep.GetProperty("promoted");
        Assert.Equal("iris-best", promoted.GetProperty("name").GetString());
        var model = await (await client.GetAsync("/api/models/iris-best")).JsonAsync();
        Assert.Equal(promoted.GetProperty("run_id").GetGuid(), model.GetProperty("run_id").GetGuid());
        var instances = """{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]}""";
        var byName = await client.PostJsonAsync("/api/models/iris-best/predict", instances);
        var byTrial = await client.PostJsonAsync($"/api/runs/{best.GetProperty("run_id").GetGuid()}/predict", instances);
        Assert.Equal(promoted.GetProperty("run_id").GetGuid(), byName.GetProperty("run_id").GetGuid());
        Assert.Equal(
            byTrial.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probabilities").ToString()),
            byName.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probabilities").ToString()));
        await using var db = _factory.NewDbContext();
        var bestWeights = await db.RunWeights.SingleAsync(w => w.RunId == best.GetProperty("run_id").GetGuid() && w.Kind == WeightsKind.Final);
        var servedWeights = await db.RunWeights.SingleAsync(w => w.RunId == promoted.GetProperty("run_id").GetGuid() && w.Kind == WeightsKind.Final);
        Assert.Equal(bestWeights.Data, servedWeights.Data);

        var list = await (await client.GetAsync("/api/sweeps")).JsonAsync();
        Assert.Equal(id, list.GetProperty("items")[0].Id());
        Assert.Equal(6, list.GetProperty("items")[0].GetProperty("trials").GetInt32());
    }

    [Fact]
    public async Task Random_SameSeedGivesTheSameTrials_InsideTheirRanges()
    {
        var client = _factory.CreateClient();
        string Body(int seed) => $$$"""
            {"base": {{{SweepSpecs.IrisBase(epochs: 200, batchSize: 1)}}}, "method": "random", "seed": {{{seed}}}, "max_trials": 8, "max_concurrent_trials": 1,
             "space": {"compile.optimizer.learning_rate": {"log_uniform": [0.0001, 0.01]}, "model.layers[0].units": {"choice": [8, 16, 32]},
                       "fit.batch_size": {"choice": [8, 16]}, "model.layers[1].rate": {"uniform": [0.0, 0.5]}},
             "objective": {"metric": "val_loss"}}
            """;
        static List<string> Points(JsonElement s) => s.Trials().OrderBy(t => t.GetProperty("number").GetInt32()).Select(t => t.GetProperty("params").GetRawText()).ToList();

        var a = await client.SubmitSweepAsync(Body(5));
        var b = await client.SubmitSweepAsync(Body(5));
        var c = await client.SubmitSweepAsync(Body(6));
        Assert.Equal(Points(a), Points(b));
        Assert.NotEqual(Points(a), Points(c));
        Assert.Equal("min", a.GetProperty("objective").GetProperty("mode").GetString()); // from the metric
        foreach (var t in a.Trials())
        {
            var p = t.GetProperty("params");
            Assert.InRange(p.GetProperty("compile.optimizer.learning_rate").GetDouble(), 0.0001, 0.01);
            Assert.Contains(p.GetProperty("model.layers[0].units").GetInt32(), new[] { 8, 16, 32 });
            Assert.InRange(p.GetProperty("model.layers[1].rate").GetDouble(), 0.0, 0.5);
        }
        Assert.True(a.Trials().Select(t => t.GetProperty("params").GetProperty("compile.optimizer.learning_rate").GetDouble()).Distinct().Count() == 8);
        foreach (var s in new[] { a, b, c })
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/sweeps/{s.Id()}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Asha_StopsExactlyTheTrialsBelowTheRungCutoff_AndNeverTheBest_TheirRunsEndStopped()
    {
        var client = _factory.CreateClient();
        // 9 epochs, grace 1, factor 3: rungs after epochs 1 and 3. One trial at a time, so the arrival order at
        // each rung is the trial order and the expected decisions can be recomputed from the stored epochs.
        var body = $$$"""
            {"base": {{{SweepSpecs.IrisBase(epochs: 9, batchSize: 8)}}}, "method": "asha", "seed": 11, "max_trials": 9, "max_concurrent_trials": 1,
             "space": {"compile.optimizer.learning_rate": {"log_uniform": [0.0001, 0.3]}, "model.layers[0].units": {"choice": [2, 8, 32]}},
             "asha": {"grace_period": 1, "reduction_factor": 3},
             "objective": {"metric": "val_loss", "mode": "min"}}
            """;
        var id = (await client.SubmitSweepAsync(body)).Id();
        var sweep = await client.WaitForSweepEndAsync(id, Patience);
        Assert.Equal("succeeded", sweep.Status());
        Assert.Equal([1, 3], sweep.GetProperty("rungs").EnumerateArray().Select(r => r.GetInt32()));

        var trials = sweep.Trials().OrderBy(t => t.GetProperty("number").GetInt32()).ToList();
        var values = new Dictionary<int, List<double>>(); // trial → val_loss per epoch
        foreach (var t in trials)
        {
            var epochs = await (await client.GetAsync($"/api/runs/{t.GetProperty("run_id").GetGuid()}/metrics")).JsonAsync();
            values[t.GetProperty("number").GetInt32()] = epochs.EnumerateArray().Select(e => e.GetProperty("val_loss").GetDouble()).ToList();
        }

        var recorded = new Dictionary<int, List<double>> { [1] = [], [3] = [] };
        var stopped = 0;
        foreach (var t in trials)
        {
            var n = t.GetProperty("number").GetInt32();
            int? expectedStop = null;
            foreach (var rung in new[] { 1, 3 })
            {
                var v = values[n][rung - 1];
                // Lower is better: negate, so the cutoff is the (1 - 1/3) quantile of "higher is better" values.
                var cutoff = AshaScheduler.Cutoff(recorded[rung].Select(x => -x).ToList(), 3);
                var bestSoFar = recorded[rung].Count == 0 || v <= recorded[rung].Min();
                recorded[rung].Add(v);
                if (cutoff is { } c && -v < c)
                {
                    Assert.False(bestSoFar, $"trial {n} was the best at rung {rung} yet would be stopped");
                    expectedStop = rung;
                    break;
                }
            }
            if (expectedStop is { } r)
            {
                stopped++;
                Assert.Equal("stopped", t.GetProperty("status").GetString());
                Assert.Equal(r, t.GetProperty("stopped_at_epoch").GetInt32());
                Assert.Equal(r, t.GetProperty("epochs_completed").GetInt32()); // not one epoch more
                // The trial's own run ends stopped (an early-stopped result), not cancelled.
                var run = await (await client.GetAsync($"/api/runs/{t.GetProperty("run_id").GetGuid()}")).JsonAsync();
                Assert.Equal("stopped", run.Status());
                Assert.Equal(r, run.GetProperty("epochs_completed").GetInt32());
            }
            else
            {
                Assert.Equal("succeeded", t.GetProperty("status").GetString());
                Assert.Equal(9, t.GetProperty("epochs_completed").GetInt32());
            }
        }
        Assert.InRange(stopped, 1, 8);

        // The best trial ran to the end; savings are counted against every trial running 9 epochs.
        var best = sweep.GetProperty("best");
        Assert.Equal("succeeded", best.GetProperty("status").GetString());
        var finalValues = trials.Where(t => t.GetProperty("status").GetString() == "succeeded").Select(t => t.GetProperty("objective").GetDouble());
        Assert.Equal(finalValues.Min(), best.GetProperty("objective").GetDouble());
        var counts = sweep.GetProperty("counts");
        Assert.Equal(81, counts.GetProperty("epochs_if_all_completed").GetInt32());
        Assert.Equal(trials.Sum(t => t.GetProperty("epochs_completed").GetInt32()), counts.GetProperty("epochs_trained").GetInt32());
        Assert.True(counts.GetProperty("epochs_trained").GetInt32() < 81);
        Assert.Equal(stopped, counts.GetProperty("stopped").GetInt32());
    }

    [Fact]
    public async Task Cancel_StopsEveryTrial_AndStartsNoMore()
    {
        var client = _factory.CreateClient();
        var body = $$$"""
            {"base": {{{Specs.Digits(epochs: 300, batchSize: 4, name: null)}}}, "method": "random", "max_trials": 6, "max_concurrent_trials": 2,
             "space": {"model.layers[1].units": {"choice": [16, 32]}}, "objective": {"metric": "val_accuracy"}}
            """;
        var id = (await client.SubmitSweepAsync(body)).Id();
        await client.WaitForSweepAsync(id, s => s.Trials().Count(t => t.GetProperty("status").GetString() == "running") == 2, Patience);

        var cancelled = await client.PostAsync($"/api/sweeps/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        var sweep = await client.WaitForSweepAsync(id, s => s.Trials().All(t => t.GetProperty("status").GetString() is "cancelled"), Patience);
        Assert.Equal("cancelled", sweep.Status());
        await _factory.WaitForIdleJobsAsync(Patience);

        await using var db = _factory.NewDbContext();
        var runs = await db.Runs.AsNoTracking().Where(r => r.SweepId == id).ToListAsync();
        Assert.Equal(2, runs.Count); // the four not started never start
        Assert.All(runs, r => Assert.Equal(RunStatus.Cancelled, r.Status));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/sweeps/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task EventStream_FollowsTrials_ThenTheFinalStatus()
    {
        var client = _factory.CreateClient();
        var body = $$$"""
            {"base": {{{SweepSpecs.IrisBase(epochs: 2)}}}, "method": "grid",
             "space": {"model.layers[0].units": {"choice": [4, 8]}}, "objective": {"metric": "val_accuracy"}}
            """;
        var id = (await client.SubmitSweepAsync(body)).Id();
        using var cts = new CancellationTokenSource(Patience);
        using var response = await client.GetAsync($"/api/sweeps/{id}/events", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        var events = new List<(string Type, JsonElement Data)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(stream).EnumerateAsync(cts.Token))
            events.Add((item.EventType, JsonDocument.Parse(item.Data).RootElement.Clone()));

        Assert.Equal("status", events[^1].Type);
        Assert.Equal("succeeded", events[^1].Data.GetProperty("status").GetString());
        var trialEvents = events.Where(e => e.Type == "trial").ToList();
        Assert.Equal([0, 1], trialEvents.Where(e => e.Data.GetProperty("status").GetString() == "succeeded").Select(e => e.Data.GetProperty("number").GetInt32()).Order());
    }

    [Theory]
    [InlineData("""{"model.layers[0].units": {"choice": [16, 0]}}""", "random", "space.model.layers[0].units", "0")]
    [InlineData("""{"model.layers[0].units": {"uniform": [8, 64]}}""", "random", "space.model.layers[0].units", "")]
    [InlineData("""{"model.layers[1].rate": {"uniform": [0.0, 1.5]}}""", "random", "space.model.layers[1].rate", "1.5")]
    [InlineData("""{"compile.optimizer.learning_rate": {"log_uniform": [0.0, 0.1]}}""", "random", "space.compile.optimizer.learning_rate", "")]
    [InlineData("""{"model.layers[7].units": {"choice": [8]}}""", "random", "space.model.layers[7].units", "out of range")]
    [InlineData("""{"fit.batch_size": {"choice": [8, "big"]}}""", "random", "space.fit.batch_size", "big")]
    [InlineData("""{"compile.optimizer.learning_rate": {"uniform": [0.001, 0.01]}}""", "grid", "space.compile.optimizer.learning_rate", "grid")]
    [InlineData("""{"name": {"choice": ["a"]}}""", "random", "space.name", "")]
    public async Task ASpaceThatCanProduceAnInvalidRun_IsRefusedNamingThePathAndValue_AndWritesNothing(string space, string method, string key, string mentions)
    {
        var client = _factory.CreateClient();
        var body = $$$"""{"base": {{{SweepSpecs.IrisBase()}}}, "method": "{{{method}}}", "space": {{{space}}}, "objective": {"metric": "val_accuracy"}}""";
        var response = await client.PostAsync("/api/sweeps", Specs.Json(body));
        var problem = await response.JsonAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(key, problem.ErrorKeys());
        Assert.Contains(mentions, problem.GetProperty("errors").GetProperty(key)[0].GetString());
        await using var db = _factory.NewDbContext();
        Assert.Equal(0, await db.Sweeps.CountAsync());
        Assert.Equal(0, await db.Runs.CountAsync());
    }

    [Theory]
    [InlineData("""{"base": BASE, "space": {"fit.batch_size": {"choice": [8]}}, "space": {"fit.batch_size": {"choice": [16]}}, "objective": {"metric": "val_loss"}}""")]
    [InlineData("""{"base": BASE, "space": {"fit.batch_size": {"choice": [8]}, "fit.batch_size": {"choice": [16]}}, "objective": {"metric": "val_loss"}}""")]
    public async Task ABodyWithADuplicateKey_IsRefusedWith400_AndWritesNothing(string body)
    {
        // Found by the fuzz suite: a JsonObject with a duplicate key threw ArgumentException on first read, a 500.
        var response = await _factory.CreateClient().PostAsync("/api/sweeps", Specs.Json(body.Replace("BASE", SweepSpecs.IrisBase())));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["$"], (await response.JsonAsync()).ErrorKeys());
        await using var db = _factory.NewDbContext();
        Assert.Equal(0, await db.Sweeps.CountAsync());
    }

    [Theory]
    [InlineData("""{"metric": "val_accuracy"}""", 0.0, "objective.metric")]
    [InlineData("""{"metric": "val_accuracy", "mode": "up"}""", 0.25, "objective.mode")]
    [InlineData("""{"metric": "val_auc"}""", 0.25, "objective.metric")]
    public async Task AnObjectiveTheTrialsDoNotLog_IsRefused(string objective, double validationSplit, string key)
    {
        var client = _factory.CreateClient();
        var body = $$$"""{"base": {{{SweepSpecs.IrisBase(validationSplit: validationSplit)}}}, "space": {"model.layers[0].units": {"choice": [4, 8]}}, "objective": {{{objective}}}}""";
        var response = await client.PostAsync("/api/sweeps", Specs.Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(key, (await response.JsonAsync()).ErrorKeys());
    }
}

/// <summary>Every test of <see cref="SweepTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SweepTestsOnPostgres(PostgresServer postgres) : SweepTests(postgres);
