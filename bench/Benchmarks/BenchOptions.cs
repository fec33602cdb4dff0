using System.Globalization;

namespace TrainingService.Bench;

/// <summary>What the harness runs. The defaults are the full benchmark (about 10 minutes on the 2-core machine);
/// <c>--quick</c> is the tiny configuration the smoke test runs.</summary>
public sealed record BenchOptions
{
    public string RepoRoot { get; init; } = FindRepoRoot();
    public string Output { get; init; } = "docs/benchmarks.md";
    public int Repeats { get; init; } = 3;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public long MlpSamples { get; init; } = 60000;
    public long CnnSamples { get; init; } = 5000;
    /// <summary>100 steps: the thread policy's trial is a fixed cost per run, and on a 20-step epoch (1,280) it took up
    /// to 10 % of the epoch, which a real IMDB epoch (390 steps) does not see.</summary>
    public long LstmSamples { get; init; } = 6400;
    /// <summary>Examples the PyTorch peer trains the LSTM on (it is ~20× slower; its time is scaled per example).</summary>
    public long PeerLstmSamples { get; init; } = 192;
    public bool Service { get; init; } = true;
    public bool Python { get; init; } = true;
    public bool Serving { get; init; } = true;
    public int LatencyRuns { get; init; } = 20;
    public int ServingSeconds { get; init; } = 5;
    public int[] Clients { get; init; } = [1, 8, 32, 64];
    /// <summary>FMA units per core, for the peak FLOP/s (2 on Xeon cores with AVX-512; see docs/benchmarks-howto.md).</summary>
    public int FmaUnits { get; init; } = 2;
    public string Python3 { get; init; } = Environment.GetEnvironmentVariable("BENCH_PYTHON") ?? "/usr/bin/python3";
    public string Configuration { get; init; } = AppContext.BaseDirectory.Contains("/Debug/") ? "Debug" : "Release";
    public string[] Models { get; init; } = ["mlp", "cnn", "lstm"];
    /// <summary>Keep the work folder (data, service storage) here instead of a deleted temp folder.</summary>
    public string? Work { get; init; }
    /// <summary>Skip training and job latency; serve the models already in <see cref="Work"/> (for profiling serving).</summary>
    public bool ServingOnly { get; init; }
    /// <summary>Extra service configuration (<c>--set Key=Value</c>, repeatable), e.g. <c>Prediction:MaxConcurrency=4</c>.</summary>
    public IReadOnlyList<(string Key, string Value)> ServiceSettings { get; init; } = [];

    public static BenchOptions Quick(string output) => new()
    {
        Output = output,
        Repeats = 1,
        MlpSamples = 128,
        CnnSamples = 64,
        LstmSamples = 64,
        Service = false,
        Python = false,
        Serving = false,
        LatencyRuns = 2,
        ServingSeconds = 1,
        Clients = [1, 8],
    };

    public static BenchOptions Parse(string[] args)
    {
        var o = args.Contains("--quick") ? Quick("docs/benchmarks.md") : new BenchOptions();
        string? Value(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        long Long(string name, long fallback) => Value(name) is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return o with
        {
            Output = Value("--out") ?? o.Output,
            Repeats = Int("--repeats", o.Repeats),
            Threads = Int("--threads", o.Threads),
            MlpSamples = Long("--mlp-samples", o.MlpSamples),
            CnnSamples = Long("--cnn-samples", o.CnnSamples),
            LstmSamples = Long("--lstm-samples", o.LstmSamples),
            PeerLstmSamples = Long("--peer-lstm-samples", o.PeerLstmSamples),
            Service = !args.Contains("--no-service") && (o.Service || args.Contains("--service")),
            Python = !args.Contains("--no-python") && (o.Python || args.Contains("--python")),
            Serving = !args.Contains("--no-serving") && (o.Serving || args.Contains("--serving")),
            LatencyRuns = Int("--latency-runs", o.LatencyRuns),
            ServingSeconds = Int("--serving-seconds", o.ServingSeconds),
            Clients = Value("--clients") is { } c ? c.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : o.Clients,
            FmaUnits = Int("--fma-units", o.FmaUnits),
            Python3 = Value("--python3") ?? o.Python3,
            Models = Value("--models") is { } m ? m.Split(',') : o.Models,
            Work = Value("--work"),
            ServingOnly = args.Contains("--serving-only"),
            ServiceSettings = args.Select((a, i) => (a, i)).Where(x => x.a == "--set" && x.i + 1 < args.Length)
                .Select(x => args[x.i + 1].Split('=', 2)).Select(kv => (kv[0], kv[1])).ToList(),
        };
    }

    public long Samples(string model) => model switch { "mlp" => MlpSamples, "cnn" => CnnSamples, _ => LstmSamples };

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TrainingService.sln"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
