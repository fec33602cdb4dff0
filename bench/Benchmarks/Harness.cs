using System.Diagnostics;
using System.Globalization;
using System.Text;
using TrainingService.ProcessTests;

namespace TrainingService.Bench;

/// <summary>Runs every benchmark in order (training A B C P interleaved per model, job latency, serving,
/// memory) and writes the report. Each service phase gets its own process on one storage root, so each peak RSS
/// belongs to one phase.</summary>
public static class Harness
{
    /// <param name="existing">With <c>--serving-only</c>, the report to keep: only its serving section is replaced.</param>
    public static async Task<string> RunAsync(BenchOptions o, Action<string> log, string? existing = null)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var spin = TrainingService.Training.Engine.OpenMpWaits.SleepWhenIdle(); // as the service does; children inherit it
        TrainingService.Training.Engine.NativeHeap.KeepFreedMemory(); // as the service does: steps reuse freed memory
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
                    using var service = await ServiceProcess.StartAsync(storage, Pairs(Settings(o, datasets)));
                    report.Latency = await JobLatencyBench.RunAsync(service, storage, o.LatencyRuns, log);
                    service.Stop(StopPatience);
                }

                if (o.Serving && ServingBench.Wrk() is { } wrk)
                {
                    foreach (var mode in new[] { "per request", "dynamic batching" })
                    {
                        var settings = new Dictionary<string, string>(Settings(o, datasets)) { ["Prediction:DynamicBatching"] = (mode != "per request").ToString() };
                        using var service = await ServiceProcess.StartAsync(storage, Pairs(settings));
                        await ServeAsync(service, wrk, mode, o, work, report, log);
                        service.Stop(StopPatience);
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
        return o.ServingOnly && existing is not null ? report.SpliceServing(existing) : report.ToMarkdown();
    }

    /// <summary>How long a service may take to stop cleanly after SIGTERM.</summary>
    public static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(30);

    public static IEnumerable<(string Key, string Value)> Pairs(Dictionary<string, string> settings) =>
        settings.Select(kv => (kv.Key, kv.Value));

    public static Dictionary<string, string> Settings(BenchOptions o, string datasets)
    {
        var settings = new Dictionary<string, string>
        {
            // The service's own log lines are not what is measured.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Datasets:Root"] = datasets,
            // Training threads: the service's default policy (measured per run), which C reports beside the fixed counts.
            // One principal drives all the load: its request rates and run quota would measure the limiter, not the
            // service (0 turns a rate limit off).
            ["Requests:PredictionsPerMinute"] = "0",
            ["Requests:SubmissionsPerMinute"] = "0",
            ["Quotas:MaxActiveRuns"] = "100000",
        };
        foreach (var (k, v) in o.ServiceSettings) settings[k] = v;
        return settings;
    }

    private static async Task ServeAsync(ServiceProcess service, string wrk, string mode, BenchOptions o, string work, Report report, Action<string> log)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "wrk-post.lua");
        var runs = (await service.GetJsonAsync("/api/runs?page_size=100")).GetProperty("items").EnumerateArray()
            .Where(r => r.GetProperty("status").GetString() == "succeeded")
            .Select(r => (Name: r.GetProperty("name").GetString(), Id: r.GetProperty("id").GetGuid())).ToList();
        var targets = new List<ServingTarget>();
        if (mode == "per request") targets.Add(new ServingTarget("trivial endpoint (GET /ping)", $"{service.Url}/ping", null));
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
            targets.Add(new ServingTarget(model == "mlp" ? "MNIST MLP predict" : "CIFAR-10 CNN predict", url, body));
            if (model == "mlp") targets.AddRange(await V2TargetsAsync(service, run.Name, work));
        }
        foreach (var target in targets)
        {
            ServingBench.Load(wrk, script, target, mode, 8, 1); // warm-up: JIT, connection pools, caches
            foreach (var clients in o.Clients)
            {
                var point = ServingBench.Load(wrk, script, target, mode, clients, o.ServingSeconds);
                report.Serving.Add(point);
                log($"  {target.Name}, {mode}, {clients} clients: {point.RequestsPerSecond:F0} req/s ({point.PredictionsPerSecond:F0} predictions/s), p50 {point.P50Ms:F2} ms, p99 {point.P99Ms:F2} ms, errors {point.Errors}");
            }
        }
        report.ServingPeakRss[mode] = service.Memory().Peak;
    }

    /// <summary>The MLP through the Open Inference Protocol v2 (by model name): one instance as a JSON tensor, and a
    /// batch of each of <see cref="BinaryBatches"/> instances with the binary tensor data extension (in the stored datatype).</summary>
    private static async Task<List<ServingTarget>> V2TargetsAsync(ServiceProcess service, string name, string work)
    {
        var metadata = await service.GetJsonAsync($"/v2/models/{name}");
        var input = metadata.GetProperty("inputs")[0];
        var (inputName, datatype) = (input.GetProperty("name").GetString()!, input.GetProperty("datatype").GetString()!);
        var url = $"{service.Url}/v2/models/{name}/infer";
        var json = Path.Combine(work, "mlp-v2.json");
        await File.WriteAllTextAsync(json, ServingBench.V2JsonBody(inputName, datatype));
        var targets = new List<ServingTarget> { new("MNIST MLP v2 infer (JSON tensor)", url, json) };
        foreach (var batch in BinaryBatches)
        {
            var (bytes, headerLength) = ServingBench.V2BinaryBody(inputName, datatype, batch);
            var binary = Path.Combine(work, $"mlp-v2-{batch}.bin");
            await File.WriteAllBytesAsync(binary, bytes);
            using (var check = new ByteArrayContent(bytes))
            {
                check.Headers.Add("Inference-Header-Content-Length", headerLength.ToString(CultureInfo.InvariantCulture));
                using var first = await service.Client.PostAsync(url, check);
                if (!first.IsSuccessStatusCode) throw new InvalidOperationException($"v2 binary infer: {(int)first.StatusCode} {await first.Content.ReadAsStringAsync()}");
            }
            targets.Add(new ServingTarget($"MNIST MLP v2 infer (binary {datatype}, {batch} instances)", url, binary, batch, "application/octet-stream", headerLength));
        }
        return targets;
    }

    /// <summary>Instances per binary v2 request: batches a client sending many predictions would pick.</summary>
    private static readonly int[] BinaryBatches = [64, 256];

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
