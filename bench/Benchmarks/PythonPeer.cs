using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TrainingService.Bench;

/// <summary>bench/pytorch_peer.py under Debian's python3-torch: one process per epoch measured (the epoch is timed
/// inside the script, so interpreter start-up and imports are not counted).</summary>
public sealed class PythonPeer(string python, string script, string version)
{
    public string Version { get; } = version;

    public static PythonPeer? Find(BenchOptions o)
    {
        var script = Path.Combine(o.RepoRoot, "bench", "pytorch_peer.py");
        if (!File.Exists(o.Python3) || !File.Exists(script)) return null;
        var (code, output) = Run(o.Python3, ["-c", "import torch; print(torch.__version__)"]);
        return code == 0 ? new PythonPeer(o.Python3, script, output.Trim()) : null;
    }

    public double Epoch(string model, string dataDir, long samples, int batch, int threads, int seed, bool fashionMnist)
    {
        var args = new List<string>
        {
            script, "--model", model, "--data", dataDir, "--samples", samples.ToString(CultureInfo.InvariantCulture),
            "--batch", batch.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--seed", seed.ToString(CultureInfo.InvariantCulture),
        };
        if (fashionMnist) args.AddRange(["--fashion-mnist", ReferenceData.FashionMnistDir]);
        var (code, output) = Run(python, args);
        if (code != 0) throw new InvalidOperationException($"pytorch_peer.py failed ({code}):\n{output}");
        var line = output.Split('\n').Last(l => l.StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.GetProperty("seconds").GetDouble();
    }

    private static (int Code, string Output) Run(string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
