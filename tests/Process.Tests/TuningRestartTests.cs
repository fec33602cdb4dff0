using System.Text.Json;
using TrainingService.Api.Tests;

namespace TrainingService.ProcessTests;

/// <summary>Sweeps and cross-validation runs survive their service being killed (SIGKILL): finished children are
/// kept, the interrupted one resumes from its checkpoint, the rest start, and nothing is launched twice.</summary>
public sealed class TuningRestartTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);   // a poll deadline, generous for a loaded machine
    private readonly ServiceFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task KilledMidSweep_RestartedService_KeepsFinishedTrials_ResumesTheInterruptedOne_AndFinishes()
    {
        var body = $$$"""
            {"base": {{{Specs.Digits(epochs: 4, batchSize: 2, name: null)}}}, "method": "random", "seed": 3, "max_trials": 4, "max_concurrent_trials": 1,
             "space": {"compile.optimizer.learning_rate": {"log_uniform": [0.001, 0.01]}, "model.layers[1].units": {"choice": [16, 32]}},
             "objective": {"metric": "val_accuracy"}, "promote_to": "digits-swept"}
            """;
        Guid id;
        JsonElement before;
        using (var first = await ServiceProcess.StartAsync(_folder.Path))
        {
            id = (await first.Client.SubmitSweepAsync(body)).Id();
            before = await first.Client.WaitForSweepAsync(id, s =>
                s.Trials().Any(t => t.GetProperty("number").GetInt32() == 0 && t.GetProperty("status").GetString() == "succeeded") &&
                s.Trials().Any(t => t.GetProperty("number").GetInt32() == 1 && t.GetProperty("epochs_completed").GetInt32() >= 1), Patience);
            first.Kill();
        }
        var trial0 = before.Trials().Single(t => t.GetProperty("number").GetInt32() == 0);
        var trial1 = before.Trials().Single(t => t.GetProperty("number").GetInt32() == 1);
        Assert.Equal("running", before.Status());

        using var second = await ServiceProcess.StartAsync(_folder.Path);
        var client = second.Client;
        var after = await client.WaitForSweepEndAsync(id, Patience);

        Assert.Equal("succeeded", after.Status());
        var trials = after.Trials().OrderBy(t => t.GetProperty("number").GetInt32()).ToList();
        Assert.Equal(4, trials.Count);
        Assert.All(trials, t => Assert.Equal("succeeded", t.GetProperty("status").GetString()));
        Assert.Equal(before.Trials().OrderBy(t => t.GetProperty("number").GetInt32()).Select(t => t.GetProperty("params").GetRawText()),
            trials.Select(t => t.GetProperty("params").GetRawText()));

        // The finished trial is the same run, untouched; the interrupted one resumed (second attempt, each epoch once).
        Assert.Equal(trial0.GetProperty("run_id").GetGuid(), trials[0].GetProperty("run_id").GetGuid());
        var run0 = await client.GetRunAsync(trials[0].GetProperty("run_id").GetGuid());
        Assert.Equal(1, run0.GetProperty("attempts").GetInt32());
        Assert.Equal(trial0.GetProperty("objective").GetDouble(), trials[0].GetProperty("objective").GetDouble());
        Assert.Equal(trial1.GetProperty("run_id").GetGuid(), trials[1].GetProperty("run_id").GetGuid());
        var run1 = await client.GetRunAsync(trials[1].GetProperty("run_id").GetGuid());
        Assert.Equal(2, run1.GetProperty("attempts").GetInt32());
        var epochs = await (await client.GetAsync($"/api/runs/{run1.Id()}/metrics")).JsonAsync();
        Assert.Equal([1, 2, 3, 4], epochs.EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));

        // Four trial runs in all (none launched twice), and the best is served under its promoted name.
        var runs = await (await client.GetAsync("/api/runs?page_size=50")).JsonAsync();
        Assert.Equal(5, runs.GetProperty("total").GetInt32()); // 4 trials + the promoted copy
        var prediction = await client.PostJsonAsync("/api/models/digits-swept/predict", Specs.DigitInstances);
        Assert.Equal(after.GetProperty("promoted").GetProperty("run_id").GetGuid(), prediction.GetProperty("run_id").GetGuid());
        Assert.Equal(0, second.Stop(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task KilledMidCrossValidation_RestartedService_KeepsFinishedFolds_ResumesTheRest_AndFinishes()
    {
        var spec = SweepSpecs.IrisCrossValidation("""{"folds": 3, "refit": true, "seed": 2}""", name: "iris-cv-restart", epochs: 40)
            .Replace("\"batch_size\": 16", "\"batch_size\": 1");
        Guid id;
        List<JsonElement> before;
        using (var first = await ServiceProcess.StartAsync(_folder.Path))
        {
            id = (await first.Client.SubmitAsync(spec)).Id();
            var report = await WaitForFoldsAsync(first.Client, id, folds =>
                folds.Any(f => f.GetProperty("status").GetString() == "succeeded") &&
                folds.Any(f => f.GetProperty("status").GetString() == "running" && f.GetProperty("epochs_completed").GetInt32() >= 1));
            first.Kill();
            before = report.GetProperty("fold_runs").EnumerateArray().ToList();
        }

        using var second = await ServiceProcess.StartAsync(_folder.Path);
        var client = second.Client;
        var parent = await client.WaitForEndAsync(id, Patience);
        Assert.Equal("succeeded", parent.Status());
        var after = await (await client.GetAsync($"/api/runs/{id}/cross_validation")).JsonAsync();
        var folds = after.GetProperty("fold_runs").EnumerateArray().ToList();
        Assert.Equal(before.Select(f => f.GetProperty("run_id").GetGuid()), folds.Select(f => f.GetProperty("run_id").GetGuid())); // not expanded twice
        foreach (var (b, a) in before.Zip(folds))
        {
            var run = await client.GetRunAsync(a.GetProperty("run_id").GetGuid());
            Assert.Equal("succeeded", run.Status());
            Assert.Equal(b.GetProperty("status").GetString() == "succeeded" ? 1 : b.GetProperty("status").GetString() == "running" ? 2 : 1,
                run.GetProperty("attempts").GetInt32());
            var epochs = await (await client.GetAsync($"/api/runs/{run.Id()}/metrics")).JsonAsync();
            Assert.Equal(Enumerable.Range(1, 40), epochs.EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        }
        Assert.Equal("succeeded", after.GetProperty("refit").GetProperty("status").GetString());
        var runs = await (await client.GetAsync("/api/runs?page_size=50")).JsonAsync();
        Assert.Equal(5, runs.GetProperty("total").GetInt32()); // the run, 3 folds, the refit
        var prediction = await client.PostJsonAsync("/api/models/iris-cv-restart/predict", """{"instances": [[5.1, 3.5, 1.4, 0.2]]}""");
        Assert.Equal(id, prediction.GetProperty("run_id").GetGuid());
        Assert.Equal(0, second.Stop(TimeSpan.FromSeconds(30)));
    }

    private static async Task<JsonElement> WaitForFoldsAsync(HttpClient client, Guid id, Func<List<JsonElement>, bool> done)
    {
        var until = DateTime.UtcNow + Patience;
        JsonElement report;
        do
        {
            report = await (await client.GetAsync($"/api/runs/{id}/cross_validation")).JsonAsync();
            if (done(report.GetProperty("fold_runs").EnumerateArray().ToList())) return report;
            await Task.Delay(50);
        } while (DateTime.UtcNow < until);
        throw new Xunit.Sdk.XunitException($"folds of {id} did not get there: {report}");
    }
}
