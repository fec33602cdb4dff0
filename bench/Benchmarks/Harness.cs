using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TrainingService.Bench;

/// <summary>Runs every part of issue 6 in order (training A B C P interleaved per model, job latency, serving,
/// memory) and writes the report. Each service phase gets its own process on one storage root, so each peak RSS
/// belongs to one phase.</summary>
public static class Harness
{
    public static async Task<string> RunAsync(BenchOptions o, Action<string> log)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var spin = TrainingService.Training.Engine.OpenMpWaits.SleepWhenIdle(); // as the service does; children inherit it
        TorchSharp.torch.set_num_threads(o.Threads);
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage();
        var machine = Machine.Describe(o.FmaUnits);
        var work = o.Work ?? Path.Combine(Path.GetTempPath(), "ts-bench", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        log($"work folder {work}; load {loadBefore}");
        var report = new Report(o, machine) { OpenMp = spin is null ? $"OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY")}" : $"GOMP_SPINCOUNT={spin}" };
        try
        {
            foreach (var model in o.ServingOnly ? [] : o.Models)
            {
                log($"training {model} ({o.Samples(model)} examples, {o.Repeats} repeats)");
                report.Training.Add(await TrainingBench.RunAsync(model, o, work, log));
            }

            if (o.Service)
            {
                var storage = Path.Combine(work, "service");
                var datasets = Path.Combine(work, "datasets");
                if (!o.ServingOnly && o.LatencyRuns > 0) // --latency-runs 0 skips this part
                {
                    log($"job latency ({o.LatencyRuns} runs)");
                    using var service = await ServiceHost.StartAsync(o, storage, Settings(o, datasets));
                    report.Latency = await JobLatencyBench.RunAsync(service, storage, o.LatencyRuns, log);
                    service.Stop();
                }

                if (o.Serving && ServingBench.Wrk() is { } wrk)
                {
                    foreach (var mode in new[] { "per request", "dynamic batching" })
                    {
                        var settings = new Dictionary<string, string>(Settings(o, datasets)) { ["Prediction:DynamicBatching"] = (mode != "per request").ToString() };
                        using var service = await ServiceHost.StartAsync(o, storage, settings);
                        await ServeAsync(service, wrk, mode, o, work, report, log);
                        service.Stop();
                    }
                }
                else if (o.Serving) log("serving skipped: wrk not found (apt-get install -y wrk)");
            }
        }
        finally
        {
            try
            {
                if (o.Work is null) Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        report.Elapsed = clock.Elapsed;
        report.LoadBefore = loadBefore;
        report.LoadAfter = LoadAverage();
        return report.ToMarkdown();
    }

    public static Dictionary<string, string> Settings(BenchOptions o, string datasets)
    {
        var settings = new Dictionary<string, string>
        {
            ["Datasets:Root"] = datasets,
            ["Training:TorchThreads"] = o.Threads.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in o.ServiceSettings) settings[k] = v;
        return settings;
    }

    private static async Task ServeAsync(ServiceHost service, string wrk, string mode, BenchOptions o, string work, Report report, Action<string> log)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "wrk-post.lua");
        var runs = (await service.GetJsonAsync("/api/runs?page_size=100")).GetProperty("items").EnumerateArray()
            .Where(r => r.GetProperty("status").GetString() == "succeeded")
            .Select(r => (Name: r.GetProperty("name").GetString(), Id: r.GetProperty("id").GetGuid())).ToList();
        var targets = new List<(string Name, string Url, string? Body)>();
        if (mode == "per request") targets.Add(("trivial endpoint (GET /ping)", $"{service.Url}/ping", null));
        foreach (var model in new[] { "mlp", "cnn" })
        {
            var run = runs.FirstOrDefault(r => r.Name == $"bench-{model}");
            if (run.Name is null) continue;
            var body = Path.Combine(work, $"{model}-predict.json");
            await File.WriteAllTextAsync(body, ServingBench.Body(model));
            var url = $"{service.Url}/api/runs/{run.Id}/predict";
            // The first prediction restores the model into the cache: the RSS it adds is the model's serving cost.
            var before = service.Memory().Rss;
            using (var first = await service.Client.PostAsync(url, new StringContent(await File.ReadAllTextAsync(body), Encoding.UTF8, "application/json")))
            {
                if (!first.IsSuccessStatusCode) throw new InvalidOperationException($"predict {model}: {(int)first.StatusCode} {await first.Content.ReadAsStringAsync()}");
            }
            if (mode == "per request") report.ModelMemory.Add(new ModelMemory(model == "mlp" ? "MNIST MLP" : "CIFAR-10 CNN", before, service.Memory().Rss));
            targets.Add((model == "mlp" ? "MNIST MLP predict" : "CIFAR-10 CNN predict", url, body));
        }
        foreach (var (name, url, body) in targets)
        {
            ServingBench.Load(wrk, script, url, body, name, mode, 8, 1); // warm-up: JIT, connection pools, caches
            foreach (var clients in o.Clients)
            {
                var point = ServingBench.Load(wrk, script, url, body, name, mode, clients, o.ServingSeconds);
                report.Serving.Add(point);
                log($"  {name}, {mode}, {clients} clients: {point.RequestsPerSecond:F0} req/s, p50 {point.P50Ms:F2} ms, p99 {point.P99Ms:F2} ms, errors {point.Errors}");
            }
        }
        report.ServingPeakRss[mode] = service.Memory().Peak;
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
