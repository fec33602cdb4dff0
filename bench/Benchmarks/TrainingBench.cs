using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.ProcessTests;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Bench;

/// <summary>One reference model's epoch times: hand-written TorchSharp (A), engine fit (B), each at 1 thread and at the
/// bench's thread count N, the engine with the measured thread policy (B policy, with its choice), a run through the
/// HTTP API and the Hangfire job with the service's default policy (C, the run's own epoch duration and its choice),
/// PyTorch 1.13 at N threads (P); taken interleaved per repeat. <see cref="Hand"/> and <see cref="Engine"/> are the
/// N-thread times.</summary>
public sealed record TrainingResult(string Model, string Source, long Samples, int Batch,
    List<double> Hand, List<double> Engine, List<double> Job, List<double> Peer, double? ServicePeakRssMb, string? PeerVersion, long PeerSamples)
{
    public List<double> Hand1 { get; } = [];
    public List<double> Engine1 { get; } = [];
    public List<double> Policy { get; } = [];
    public List<int> PolicyChoices { get; } = [];
    public List<int> JobChoices { get; } = [];

    /// <summary>The faster of the engine's two fixed settings (by median).</summary>
    public double BestFixedEngine => Math.Min(Median(Engine1), Median(Engine));

    public double BestFixedHand => Math.Min(Median(Hand1), Median(Hand));

    /// <summary>SGEMM rates measured beside the CNN's epochs, one per repeat (empty for the other models).</summary>
    public List<SgemmRate> Sgemm { get; } = [];

    /// <summary>The peer's seconds per epoch of <see cref="Samples"/> examples (it may train on fewer: see PeerSamples).</summary>
    public double PeerEpoch => Median(Peer) * Samples / PeerSamples;

    public static double Median(IReadOnlyList<double> v)
    {
        if (v.Count == 0) return double.NaN;
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}

public static class TrainingBench
{
    public static readonly IReadOnlyDictionary<string, string> Examples = new Dictionary<string, string>
    {
        ["mlp"] = "mnist-mlp.json", ["cnn"] = "cifar10-cnn.json", ["lstm"] = "imdb-lstm.json",
    };

    /// <summary>Forward multiply-adds per example (FLOPs of a training step ≈ 3 × 2 × this: forward, and the two
    /// gradient products of backward).</summary>
    public static readonly IReadOnlyDictionary<string, double> ForwardMacs = new Dictionary<string, double>
    {
        ["mlp"] = 784 * 128 + 128 * 10,
        // conv1 30·30·32 outputs × 3·3·3, conv2 13·13·64 outputs × 3·3·32, dense 2304 × 10
        ["cnn"] = 30 * 30 * 32 * 27 + 13 * 13 * 64 * 288 + 2304 * 10,
    };

    public static async Task<TrainingResult> RunAsync(string model, BenchOptions o, string work, Action<string> log)
    {
        using var data = ReferenceData.Create(model, o.Samples(model));
        var dataDir = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        var datasetsRoot = Directory.CreateDirectory(Path.Combine(work, "datasets")).FullName;
        data.WriteRaw(dataDir);
        data.WriteCanonical(datasetsRoot);

        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(o.RepoRoot, "examples", Examples[model])))!.AsObject();
        var batch = spec["fit"]!["batch_size"]!.GetValue<int>();
        var fitJson = JsonDocument.Parse($$"""{"epochs": 1, "batch_size": {{batch}}, "seed": 1}""").RootElement;
        var plan = TrainingPlan.Parse(JsonDocument.Parse(spec["model"]!.ToJsonString()).RootElement,
            JsonDocument.Parse(spec["compile"]!.ToJsonString()).RootElement, fitJson);

        ServiceProcess? service = null;
        if (o.Service)
        {
            service = await ServiceProcess.StartAsync(Path.Combine(work, "service"), Harness.Pairs(Harness.Settings(o, datasetsRoot)));
        }
        var peer = o.Python ? PythonPeer.Find(o) : null;
        // PyTorch 1.13 from Debian (no MKL) trains the LSTM at a few dozen examples per second: it gets a slice.
        var peerSamples = model == "lstm" ? Math.Min(data.Count, o.PeerLstmSamples) : data.Count;
        var result = new TrainingResult(model, data.Source, data.Count, batch, [], [], [], [], null, peer?.Version, peerSamples);
        try
        {
            // Warm-up, not counted: JIT, libtorch's first kernels, the service's first dataset load.
            using (var few = ReferenceData.Create(model, Math.Min(data.Count, 4L * batch)))
            {
                HandWritten.Epoch(model, few.X, few.Y, batch, 0);
                EngineEpoch(plan, model, few, ThreadPolicy.Configured(o.Threads));
            }
            if (service is not null) await JobEpochAsync(service, spec, model, data, -1, warmUp: true);

            for (var r = 0; r < o.Repeats; r++)
            {
                IntraOpThreads.Set(o.Threads); // the policy's epoch of the last repeat left its own choice
                if (model == "cnn")
                {
                    result.Sgemm.Add(SgemmRate.Measure(repeats: 3));
                    log($"  {model} #{r + 1} SGEMM          {result.Sgemm[^1].Median:F1} GFLOP/s");
                }
                IntraOpThreads.Set(1); // per thread, as the engine sets it: MKL's per-thread count would outrank set_num_threads
                result.Hand1.Add(HandWritten.Epoch(model, data.X, data.Y, batch, 1 + r));
                IntraOpThreads.Set(o.Threads);
                result.Hand.Add(HandWritten.Epoch(model, data.X, data.Y, batch, 1 + r));
                log($"  {model} #{r + 1} A hand-written {result.Hand1[^1]:F2} s at 1 thread, {result.Hand[^1]:F2} s at {o.Threads}");
                result.Engine1.Add(EngineEpoch(plan, model, data, ThreadPolicy.Configured(1)).Seconds);
                result.Engine.Add(EngineEpoch(plan, model, data, ThreadPolicy.Configured(o.Threads)).Seconds);
                var (policySeconds, choice) = EngineEpoch(plan, model, data, ThreadPolicy.Measured(o.Threads));
                result.Policy.Add(policySeconds);
                result.PolicyChoices.Add(choice.Threads);
                log($"  {model} #{r + 1} B engine fit   {result.Engine1[^1]:F2} s at 1 thread, {result.Engine[^1]:F2} s at {o.Threads}, " +
                    $"{policySeconds:F2} s measured (chose {choice.Threads})");
                if (service is not null)
                {
                    var (jobSeconds, jobThreads) = await JobEpochAsync(service, spec, model, data, r);
                    result.Job.Add(jobSeconds);
                    result.JobChoices.Add(jobThreads);
                    log($"  {model} #{r + 1} C job          {jobSeconds:F2} s (chose {jobThreads})");
                }
                if (peer is not null)
                {
                    result.Peer.Add(peer.Epoch(model, dataDir, peerSamples, batch, o.Threads, 1 + r, data.Source == "Fashion-MNIST"));
                    log($"  {model} #{r + 1} P PyTorch      {result.Peer[^1]:F2} s ({peerSamples} examples)");
                }
            }
            if (service is not null) result = result with { ServicePeakRssMb = service.Memory().Peak };
        }
        finally
        {
            service?.Stop(Harness.StopPatience);
            service?.Dispose();
        }
        return result;
    }

    private static (double Seconds, ThreadChoice Choice) EngineEpoch(TrainingPlan plan, string model, ReferenceData data, ThreadPolicy threads)
    {
        using var session = ModelSession.Create(plan);
        using var dataset = new ArrayDataset([data.X.alias()], [data.Y.alias()], model == "lstm" ? null : new Scale(1 / 255.0));
        var clock = Stopwatch.StartNew();
        var result = session.Fit(dataset, null, null, CancellationToken.None, threads: threads);
        return (clock.Elapsed.TotalSeconds, result.Threads!);
    }

    /// <summary>Submits the reference spec (one epoch, this data) and returns the epoch's own duration_seconds and the
    /// intra-op threads the run chose.</summary>
    private static async Task<(double Seconds, int Threads)> JobEpochAsync(ServiceProcess service, JsonObject example, string model, ReferenceData data, int repeat, bool warmUp = false)
    {
        var spec = example.DeepClone().AsObject();
        spec["name"] = $"bench-{model}";
        spec["fit"] = new JsonObject { ["epochs"] = 1, ["batch_size"] = example["fit"]!["batch_size"]!.GetValue<int>(), ["seed"] = 1 + repeat };
        var dataset = spec["dataset"]!.AsObject();
        if (model == "mlp")
        {
            // The catalog's Fashion-MNIST is the same files; a subset when the benchmark takes fewer examples.
            dataset["name"] = data.Source == "Fashion-MNIST" ? "fashion_mnist" : "mnist";
            if (data.Count < 60000) dataset["preprocessing"]!["subset"] = new JsonObject { ["train"] = data.Count, ["test"] = 100 };
        }
        if (warmUp)
        {
            spec["name"] = $"bench-{model}-warm-up";
            dataset["preprocessing"]!["subset"] = new JsonObject { ["train"] = 4 * example["fit"]!["batch_size"]!.GetValue<int>(), ["test"] = 10 };
        }
        var id = await service.SubmitAsync(spec.ToJsonString());
        await service.WaitForSuccessAsync(id, TimeSpan.FromMinutes(10), pollMs: 200);
        var metrics = await service.GetJsonAsync($"/api/runs/{id}/metrics");
        var run = await service.GetJsonAsync($"/api/runs/{id}");
        return (metrics.EnumerateArray().First().GetProperty("duration_seconds").GetDouble(), run.GetProperty("threads").GetProperty("threads").GetInt32());
    }

    private sealed class Scale(double factor) : IBatchTransform
    {
        public Tensor[] Apply(Tensor[] rawInputs, bool training, Generator rng) => rawInputs.Select(t => t.to(ScalarType.Float32) * factor).ToArray();
    }
}
