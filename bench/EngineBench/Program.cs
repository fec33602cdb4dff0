using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TrainingService.Bench;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Formats;
using TrainingService.Training.Engine;
using TrainingService.Training.Layers;
using static TorchSharp.torch;

// Seconds per epoch of the three reference models: a hand-written TorchSharp loop (A) against the engine's fit with its
// fused optimizer step (B) and with one update per parameter (C), interleaved A B C A B C on the same data, same thread
// count. Run from a copy of the build output whose libLibTorchSharp.so is the counting stand-in
// (bench/NativeCallCounter/make-shim.sh), it also prints TorchSharp's native calls per training step. For the CNN it also
// measures SGEMM (torch.mm of 2048² float32, three products per repeat) and prints the CNN's achieved GFLOP/s as a fraction
// of it, by wall clock and per CPU second. With --layouts: the engine's epoch with each ConvolutionLayout (channels-last
// view, dense channels-first copy, channels-last kernels too), interleaved per repeat. With --conv-layouts: the CNN's
// forward and backward alone in those layouts (torch.nn.functional), interleaved every --steps steps. With --policy: the engine at 1 thread, at N threads and
// with the measured thread policy (ThreadPolicy), interleaved per repeat. Usage:
//   dotnet run -c Release --project bench/EngineBench -- [mlp|cnn|lstm ...] [--repeats N] [--samples N] [--threads N] [--policy | --layouts]
//   dotnet run -c Release --project bench/EngineBench -- --conv-layouts [--repeats N] [--steps N] [--threads N]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
OpenMpWaits.SleepWhenIdle(); // as the service does, before libtorch loads
NativeHeap.KeepFreedMemory(); // as the service does: steps reuse freed memory
var models = args.Where(a => !a.StartsWith("--") && !int.TryParse(a, out _)).DefaultIfEmpty("all").ToList();
if (models.Contains("all")) models = ["mlp", "cnn", "lstm"];
int Option(string name, int fallback) { var i = Array.IndexOf(args, name); return i >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback; }
var repeats = Option("--repeats", 2);
var samples = Option("--samples", 0);
var threads = Option("--threads", Environment.ProcessorCount);
set_num_threads(threads);

var policy = args.Contains("--policy");
if (args.Contains("--optimizer-step"))
{
    // The MLP's four parameters, and a deeper stack of them (ten times as many tensors, same element count per tensor).
    long[][] mlp = [[128, 784], [128], [10, 128], [10]];
    Console.WriteLine($"threads {threads}; optimizer step alone, ms per step (wall / CPU), median of {repeats} interleaved runs of 2000 steps");
    Console.WriteLine("| optimizer | parameter tensors | per-parameter | fused | fused / per-parameter (CPU) |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var name in new[] { "adam", "sgd", "rmsprop", "nadam" })
    {
        var config = TrainingService.Training.Optimizers.OptimizerRegistry.Parse(JsonDocument.Parse($"\"{name}\"").RootElement, "optimizer", [])!;
        foreach (var copies in new[] { 1, 10 })
        {
            var runs = new[] { new List<(double, double)>(), new List<(double, double)>() };
            for (var r = 0; r < repeats; r++)
                foreach (var fuse in new[] { false, true }) runs[fuse ? 1 : 0].Add(OptimizerStep.Time(config, mlp, copies, fuse, 2000));
            var (perWall, perCpu) = (Median(runs[0].Select(t => t.Item1).ToList()), Median(runs[0].Select(t => t.Item2).ToList()));
            var (fusedWall, fusedCpu) = (Median(runs[1].Select(t => t.Item1).ToList()), Median(runs[1].Select(t => t.Item2).ToList()));
            Console.WriteLine($"| {name} | {4 * copies} | {perWall:F3} / {perCpu:F3} | {fusedWall:F3} / {fusedCpu:F3} | {fusedCpu / perCpu:F2} |");
        }
    }
    return;
}
if (args.Contains("--conv-layouts"))
{
    var layoutSteps = Option("--steps", 50);
    Console.WriteLine($"threads {threads}; CNN forward + backward alone (batch 64), ms per step (wall / CPU), median of {repeats} rounds, each {layoutSteps} steps of every layout in turn");
    var runs = ConvLayouts.Compare(repeats, layoutSteps);
    var baseCpu = Median(runs[0].Select(t => t.CpuMs).ToList());
    var baseWall = Median(runs[0].Select(t => t.WallMs).ToList());
    Console.WriteLine("| layout | wall ms | CPU ms | wall / engine's | CPU / engine's | every run (wall/CPU) |");
    Console.WriteLine("|---|---|---|---|---|---|");
    for (var v = 0; v < runs.Length; v++)
    {
        var (wall, cpuMs) = (Median(runs[v].Select(t => t.WallMs).ToList()), Median(runs[v].Select(t => t.CpuMs).ToList()));
        Console.WriteLine($"| {ConvLayouts.Variants[v].Name} | {wall:F2} | {cpuMs:F2} | {wall / baseWall:F3} | {cpuMs / baseCpu:F3} | {string.Join(", ", runs[v].Select(t => $"{t.WallMs:F0}/{t.CpuMs:F0}"))} |");
    }
    return;
}
var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "TrainingService.sln"))) root = Path.GetDirectoryName(root)!;
Console.WriteLine($"threads {threads}, repeats {repeats}, CPU {CpuModel()}");
var layouts = args.Contains("--layouts");
if (layouts)
{
    Console.WriteLine($"engine epoch per convolution layout (ModelSession.ConvolutionLayout), interleaved per repeat; medians of {repeats}");
    Console.WriteLine("| model | samples | layout | wall s/epoch | CPU s/epoch | wall / ChannelsLast | CPU / ChannelsLast | every run (wall/CPU s) |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
}
else if (policy)
{
    Console.WriteLine($"| model | samples | batch | 1 thread s/epoch | {threads} threads s/epoch | policy s/epoch | policy chose (mean ms/step) | policy / best fixed |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
}
else
{
    Console.WriteLine("| model | samples | batch | hand-written s/epoch | engine s/epoch | engine per-parameter s/epoch | engine samples/s | engine / hand-written | CPU s/epoch: hand-written / engine / per-parameter | native calls per step: hand-written / engine / per-parameter |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
}
foreach (var model in models)
{
    var (x, y, file, source, defaultSamples) = Data(model);
    var n = samples > 0 ? Math.Min(samples, x.shape[0]) : defaultSamples;
    x = x.narrow(0, 0, n); y = y.narrow(0, 0, n);
    var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "examples", file))).RootElement;
    var fit = JsonDocument.Parse($$"""{"epochs": 1, "batch_size": {{spec.GetProperty("fit").GetProperty("batch_size").GetInt32()}}, "seed": 1}""").RootElement;
    var plan = TrainingPlan.Parse(spec.GetProperty("model"), spec.GetProperty("compile"), fit);
    if (policy)
    {
        var (one, many, chosen) = (new List<double>(), new List<double>(), new List<double>());
        var choices = new List<string>();
        for (var r = 0; r < repeats; r++)
        {
            one.Add(EngineEpoch(ThreadPolicy.Configured(1)).Seconds);
            many.Add(EngineEpoch(ThreadPolicy.Configured(threads)).Seconds);
            var (seconds, choice) = EngineEpoch(ThreadPolicy.Measured(threads));
            chosen.Add(seconds);
            choices.Add($"{choice.Threads} ({string.Join(", ", choice.MeanStepMs!.Select(m => $"{m.Key}: {m.Value:F2}"))})");
        }
        var best = Math.Min(Median(one), Median(many));
        Console.WriteLine($"| {model} ({source}) | {n} | {plan.BatchSize} | {Median(one):F2} | {Median(many):F2} | {Median(chosen):F2} | {string.Join("; ", choices)} | {Median(chosen) / best:F3} |");
        Console.WriteLine($"  every run: 1 thread {string.Join(", ", one.Select(v => v.ToString("F2")))}; {threads} threads {string.Join(", ", many.Select(v => v.ToString("F2")))}; policy {string.Join(", ", chosen.Select(v => v.ToString("F2")))}");
        continue;
    }
    if (layouts)
    {
        // The engine's epoch with each convolution layout, interleaved per repeat; wall and this process's CPU seconds.
        var kinds = Enum.GetValues<ConvolutionLayout>();
        var times = kinds.Select(_ => new List<(double Wall, double Cpu)>()).ToArray();
        var me = System.Diagnostics.Process.GetCurrentProcess();
        for (var r = -1; r < repeats; r++) // -1: a warm-up of each layout, not counted
        {
            for (var k = 0; k < kinds.Length; k++)
            {
                using var session = ModelSession.Create(plan);
                session.ConvolutionLayout = kinds[k];
                using var data = new ArrayDataset([x.alias()], [y.alias()], new Scale(1 / 255.0));
                me.Refresh();
                var cpuBefore = me.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                session.Fit(data, null, null, CancellationToken.None);
                var wall = clock.Elapsed.TotalSeconds;
                me.Refresh();
                if (r >= 0) times[k].Add((wall, (me.TotalProcessorTime - cpuBefore).TotalSeconds));
            }
        }
        var (wall0, cpu0) = (Median(times[0].Select(t => t.Wall).ToList()), Median(times[0].Select(t => t.Cpu).ToList()));
        foreach (var (kind, k) in kinds.Select((kind, k) => (kind, k)))
        {
            var (wall, cpuSeconds) = (Median(times[k].Select(t => t.Wall).ToList()), Median(times[k].Select(t => t.Cpu).ToList()));
            Console.WriteLine($"| {model} | {n} | {kind} | {wall:F3} | {cpuSeconds:F3} | {wall / wall0:F3} | {cpuSeconds / cpu0:F3} | {string.Join(", ", times[k].Select(t => $"{t.Wall:F2}/{t.Cpu:F2}"))} |");
        }
        continue;
    }
    (double Seconds, ThreadChoice Choice) EngineEpoch(ThreadPolicy threadPolicy)
    {
        using var session = ModelSession.Create(plan);
        using var data = new ArrayDataset([x.alias()], [y.alias()], model == "lstm" ? null : new Scale(1 / 255.0));
        var clock = Stopwatch.StartNew();
        var result = session.Fit(data, null, null, CancellationToken.None, threads: threadPolicy);
        return (clock.Elapsed.TotalSeconds, result.Threads!);
    }
    var a = new List<double>();
    var b = new List<double>();
    var c = new List<double>();
    var calls = new long?[3];
    // The process's CPU time beside the wall clock: on a machine shared with other work the wall clock also measures
    // the neighbours, while CPU time is (nearly) this loop's own work.
    var cpu = new[] { new List<double>(), new List<double>(), new List<double>() };
    var process = System.Diagnostics.Process.GetCurrentProcess();
    double CpuSeconds() { process.Refresh(); return process.TotalProcessorTime.TotalSeconds; }
    var steps = (n + plan.BatchSize - 1) / plan.BatchSize;
    // The CNN's achieved FLOP/s is set against this machine's measured SGEMM rate at the same thread count, sampled in
    // every repeat beside the epochs (a neighbour's load moves both).
    var sgemm = new List<SgemmRate>();
    for (var r = 0; r < repeats; r++)
    {
        if (model == "cnn") sgemm.Add(SgemmRate.Measure(repeats: 3));
        var before = NativeCalls.Count();
        NativeCalls.Report(ReportPath(model, "setup"));
        var cpuBefore = CpuSeconds();
        a.Add(HandWritten.Epoch(model, x, y, plan.BatchSize, 1 + r));
        cpu[0].Add(CpuSeconds() - cpuBefore);
        calls[0] = NativeCalls.Count() - before;
        NativeCalls.Report(ReportPath(model, "hand-written"));
        foreach (var (fuse, times, slot) in new[] { (true, b, 1), (false, c, 2) })
        {
            using var session = ModelSession.Create(plan);
            session.FuseOptimizer = fuse;
            using var data = new ArrayDataset([x.alias()], [y.alias()], model == "lstm" ? null : new Scale(1 / 255.0));
            before = NativeCalls.Count();
            cpuBefore = CpuSeconds();
            var clock = Stopwatch.StartNew();
            session.Fit(data, null, null, CancellationToken.None);
            times.Add(clock.Elapsed.TotalSeconds);
            cpu[slot].Add(CpuSeconds() - cpuBefore);
            calls[slot] = NativeCalls.Count() - before;
            NativeCalls.Report(ReportPath(model, fuse ? "engine" : "engine-per-parameter"));
        }
    }
    var (ma, mb, mc) = (Median(a), Median(b), Median(c));
    var perStep = calls[0] is null ? "not counted (run on the counting stand-in)" : string.Join(" / ", calls.Select(k => $"{(double)k!.Value / steps:F0}"));
    Console.WriteLine($"| {model} ({source}) | {n} | {plan.BatchSize} | {ma:F2} | {mb:F2} | {mc:F2} | {n / mb:F0} | {mb / ma:F3} | {string.Join(" / ", cpu.Select(v => Median(v).ToString("F2")))} | {perStep} |");
    if (calls[0] is not null) Console.WriteLine($"  calls per native function, last repeat: {ReportPath(model, "*")}");
    Console.WriteLine($"  every run: hand-written {string.Join(", ", a.Select(v => v.ToString("F2")))}; engine {string.Join(", ", b.Select(v => v.ToString("F2")))}; per-parameter {string.Join(", ", c.Select(v => v.ToString("F2")))}");
    if (sgemm.Count > 0)
    {
        var all = new SgemmRate(sgemm[0].Size, sgemm.SelectMany(m => m.Gflops).ToList(), sgemm.Sum(m => m.CpuSeconds));
        var perCpuSecond = 2.0 * all.Size * all.Size * all.Size * all.Gflops.Count / 1e9 / all.CpuSeconds;
        Console.WriteLine($"  SGEMM (torch.mm {all.Size}², {threads} threads): {all.Median:F1} GFLOP/s median of {all.Gflops.Count} products, " +
                          $"{perCpuSecond:F1} GFLOP per CPU second (every product: {string.Join(", ", all.Gflops.Select(v => v.ToString("F1")))})");
        // 3 × 2 × forward multiply-adds per example (forward, and backward's two gradient products); conv1 30·30·32 outputs
        // × 3·3·3, conv2 13·13·64 × 3·3·32, dense 2304 × 10.
        const double flops = 6.0 * (30 * 30 * 32 * 27 + 13 * 13 * 64 * 288 + 2304 * 10);
        double G(double seconds) => n * flops / seconds / 1e9;
        Console.WriteLine($"  CNN achieved: hand-written {G(ma):F1} GFLOP/s ({G(ma) / all.Median:P0} of SGEMM), engine {G(mb):F1} GFLOP/s ({G(mb) / all.Median:P0}); " +
                          $"per CPU second: hand-written {G(Median(cpu[0])):F1} ({G(Median(cpu[0])) / perCpuSecond:P0} of SGEMM's), engine {G(Median(cpu[1])):F1} ({G(Median(cpu[1])) / perCpuSecond:P0})");
    }
}

static (Tensor X, Tensor Y, string File, string Source, long Samples) Data(string model)
{
    using var g = new Generator(42);
    switch (model)
    {
        case "mlp":
            const string dir = "/usr/share/datasets/fashion-mnist";
            if (File.Exists(Path.Combine(dir, "train-images-idx3-ubyte.gz")))
                return (IdxReader.ReadImages(Path.Combine(dir, "train-images-idx3-ubyte.gz")), IdxReader.ReadLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz")), "mnist-mlp.json", "Fashion-MNIST", 60000);
            return (randint(0, 256, [60000, 28, 28], ScalarType.Byte, generator: g), randint(0, 10, [60000], ScalarType.Byte, generator: g), "mnist-mlp.json", "synthetic", 60000);
        case "cnn":
            return (randint(0, 256, [50000, 32, 32, 3], ScalarType.Byte, generator: g), randint(0, 10, [50000], ScalarType.Byte, generator: g), "cifar10-cnn.json", "synthetic", 10000);
        default:
            return (randint(1, 10000, [25000, 100], ScalarType.Int64, generator: g), randint(0, 2, [25000], ScalarType.Int64, generator: g), "imdb-lstm.json", "synthetic", 5000);
    }
}

static double Median(List<double> v) { var s = v.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

static string ReportPath(string model, string run) => Path.Combine(Path.GetTempPath(), $"native-calls-{model}-{run}.txt");

static string CpuModel() =>
    File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':')[1].Trim() ?? "?" : "?";

internal sealed class Scale(double factor) : IBatchTransform
{
    public Tensor[] Apply(Tensor[] rawInputs, bool training, Generator rng) => rawInputs.Select(t => t.to(ScalarType.Float32) * factor).ToArray();
}
