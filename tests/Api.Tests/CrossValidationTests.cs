using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.CrossValidation;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Tests;

/// <summary>k-fold cross-validation: folds as child runs through the real job server, aggregates, refit served.</summary>
public class CrossValidationTests : ServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public CrossValidationTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="CrossValidationTestsOnPostgres"/>).</summary>
    protected CrossValidationTests(PostgresServer? postgres) : base(postgres, ("Training:MaxConcurrentRuns", "2"))
    {
    }

    [Fact]
    public void Folds_Stratified_HoldEachExampleOnce_AndEachClassEvenly()
    {
        // 3 classes of 50, 40 and 7 examples over 5 folds.
        var labels = Enumerable.Repeat(0, 50).Concat(Enumerable.Repeat(1, 40)).Concat(Enumerable.Repeat(2, 7)).ToArray();
        new Random(5).Shuffle(labels);
        var folds = FoldAssignment.Assign(labels.Length, 5, seed: 1, labels);

        Assert.Equal(labels.Length, folds.Length); // one fold per example: each example is held out exactly once
        Assert.All(folds, f => Assert.InRange(f, 0, 4));
        foreach (var c in new[] { 0, 1, 2 })
        {
            var perFold = Enumerable.Range(0, 5).Select(f => Enumerable.Range(0, labels.Length).Count(i => labels[i] == c && folds[i] == f)).ToArray();
            var n = labels.Count(l => l == c);
            Assert.All(perFold, k => Assert.InRange(k, n / 5, (n + 4) / 5));
        }
        var sizes = Enumerable.Range(0, 5).Select(f => folds.Count(x => x == f)).ToArray();
        Assert.True(sizes.Max() - sizes.Min() <= 1, string.Join(",", sizes));
        Assert.Equal(folds, FoldAssignment.Assign(labels.Length, 5, seed: 1, labels));
        Assert.NotEqual(folds, FoldAssignment.Assign(labels.Length, 5, seed: 2, labels));

        var plain = FoldAssignment.Assign(23, 4, seed: 9, labels: null);
        Assert.Equal([6, 6, 6, 5], Enumerable.Range(0, 4).Select(f => plain.Count(x => x == f)));
    }

    [Fact]
    public async Task FiveFoldRun_TrainsEachFoldAsAChildRun_ReportsMeanAndStdOfStoredFoldMetrics_AndServesTheRefit()
    {
        var client = _factory.CreateClient();
        var submitted = await client.SubmitAsync(SweepSpecs.IrisCrossValidation("""{"folds": 5, "stratified": true, "seed": 1, "refit": true}"""));
        var id = submitted.Id();
        Assert.Equal("running", submitted.Status());
        Assert.Equal(6 * 6, submitted.GetProperty("epochs_planned").GetInt32());

        // Folds run as ordinary jobs, never more at once than Training:MaxConcurrentRuns.
        var maxRunning = 0;
        var until = DateTime.UtcNow + Patience;
        JsonElement parent;
        do
        {
            await using (var db = _factory.NewDbContext())
                maxRunning = Math.Max(maxRunning, await db.Runs.CountAsync(r => r.ParentRunId == id && r.Status == RunStatus.Running));
            parent = await client.GetRunAsync(id);
            await Task.Delay(20);
        } while (parent.Status() == "running" && DateTime.UtcNow < until);
        Assert.Equal("succeeded", parent.Status());
        Assert.InRange(maxRunning, 1, 2);
        Assert.Equal(36, parent.GetProperty("epochs_completed").GetInt32());

        var report = await (await client.GetAsync($"/api/runs/{id}/cross_validation")).JsonAsync();
        var folds = report.GetProperty("fold_runs").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3, 4], folds.Select(f => f.GetProperty("fold").GetInt32()));
        Assert.All(folds, f => Assert.Equal("succeeded", f.GetProperty("status").GetString()));

        // Every fold's per-epoch metrics are stored, validated on its held-out fold; the aggregate is their mean/std.
        var accuracies = new List<double>();
        var losses = new List<double>();
        foreach (var f in folds)
        {
            var foldId = f.GetProperty("run_id").GetGuid();
            var epochs = await (await client.GetAsync($"/api/runs/{foldId}/metrics")).JsonAsync();
            Assert.Equal(Enumerable.Range(1, 6), epochs.EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
            Assert.All(epochs.EnumerateArray(), e => Assert.True(e.TryGetProperty("val_accuracy", out _)));
            var stored = (await client.GetRunAsync(foldId)).GetProperty("metrics");
            accuracies.Add(stored.GetProperty("accuracy").GetDouble());
            losses.Add(stored.GetProperty("loss").GetDouble());
            // The held-out score is the last epoch's validation (no callback restores other weights here).
            Assert.Equal(epochs[5].GetProperty("val_accuracy").GetDouble(), stored.GetProperty("accuracy").GetDouble(), 5);
        }
        static double Std(List<double> v) => Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / v.Count);
        Assert.Equal(accuracies.Average(), report.GetProperty("mean").GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(Std(accuracies), report.GetProperty("std").GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(losses.Average(), report.GetProperty("mean").GetProperty("loss").GetDouble(), 9);
        Assert.Equal(Std(losses), report.GetProperty("std").GetProperty("loss").GetDouble(), 9);
        var cvOnParent = parent.GetProperty("metrics").GetProperty("cross_validation");
        Assert.Equal(accuracies.Average(), cvOnParent.GetProperty("mean").GetProperty("accuracy").GetDouble(), 9);

        // The refit trained on the whole training split, scored on test; the parent serves its model by name.
        var refit = report.GetProperty("refit");
        Assert.Equal("succeeded", refit.GetProperty("status").GetString());
        Assert.Equal(refit.GetProperty("test_metrics").GetProperty("accuracy").GetDouble(), parent.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        var instances = """{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]}""";
        var byName = await (await client.PostAsync("/api/models/iris-cv/predict", Specs.Json(instances))).JsonAsync();
        var byRefit = await client.PostJsonAsync($"/api/runs/{refit.GetProperty("run_id").GetGuid()}/predict", instances);
        Assert.Equal(id, byName.GetProperty("run_id").GetGuid());
        Assert.Equal(
            byRefit.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probabilities").ToString()),
            byName.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probabilities").ToString()));

        await using var check = _factory.NewDbContext();
        Assert.Equal(6, await check.Runs.CountAsync(r => r.ParentRunId == id));
        Assert.Equal(5, await check.Runs.CountAsync(r => r.ParentRunId == id && r.Role == RunRoles.Fold));

        // Each fold standardised with statistics of its own training folds, not of the split its held-out fold is in.
        var means = (await check.Runs.Where(r => r.ParentRunId == id).OrderBy(r => r.FoldIndex).ToListAsync())
            .Select(r => JsonDocument.Parse(r.PreprocessingJson!).RootElement.GetProperty("inputs")[0].GetProperty("mean").ToString())
            .ToList();
        Assert.Equal(6, means.Distinct().Count());
    }

    [Fact]
    public async Task CancellingTheParent_CancelsEveryFold()
    {
        var client = _factory.CreateClient();
        // Folds long enough (the epoch limit, a few seconds each) that none can finish before the cancel arrives.
        var id = (await client.SubmitAsync(SweepSpecs.IrisCrossValidation("""{"folds": 4, "refit": true}""", epochs: 1000))).Id();
        await using (var db = _factory.NewDbContext())
        {
            var until = DateTime.UtcNow + Patience;
            while (!await db.Runs.AnyAsync(r => r.ParentRunId == id && r.Status == RunStatus.Running) && DateTime.UtcNow < until)
                await Task.Delay(20);
        }
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);

        var parent = await client.WaitForEndAsync(id, Patience);
        Assert.Equal("cancelled", parent.Status());
        await using var check = _factory.NewDbContext();
        var children = await check.Runs.AsNoTracking().Where(r => r.ParentRunId == id).ToListAsync();
        Assert.Equal(5, children.Count);
        Assert.All(children, c => Assert.Equal(RunStatus.Cancelled, c.Status));
    }

    [Theory]
    [InlineData("""{"folds": 1}""", "iris-cv", "cross_validation.folds")]
    [InlineData("""{"folds": 5, "shuffle": true, "refit": true}""", "iris-cv", "cross_validation.shuffle")]
    [InlineData("""{"folds": 5}""", "iris-cv", "cross_validation.refit")]
    [InlineData("""{"folds": 5, "seed": -1}""", null, "cross_validation.seed")]
    [InlineData("""[5]""", null, "cross_validation")]
    public async Task BadCrossValidation_IsRefusedWithItsPath_AndWritesNothing(string cv, string? name, string path)
    {
        var client = _factory.CreateClient();
        var response = await client.PostAsync("/api/runs", Specs.Json(SweepSpecs.IrisCrossValidation(cv, name)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(path, (await response.JsonAsync()).ErrorKeys());
        Assert.Equal(0, _factory.CountRows().Runs);
    }
}

/// <summary>Every test of <see cref="CrossValidationTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CrossValidationTestsOnPostgres(PostgresServer postgres) : CrossValidationTests(postgres);
