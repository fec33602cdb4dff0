using System.Diagnostics;
using static TorchSharp.torch;

namespace TrainingService.Bench;

/// <summary>This machine's measured single-precision matrix-multiply rate at the current thread count: the yardstick a
/// convolution's achieved FLOP/s is compared with (a convolution lowers to GEMM-like kernels, so what the CPU's BLAS/oneDNN
/// reaches on a large square product is about the best it can do, unlike the nominal peak, which needs the clock and the
/// FMA units per core guessed).</summary>
public sealed record SgemmRate(int Size, List<double> Gflops, double CpuSeconds)
{
    public double Median
    {
        get
        {
            var s = Gflops.Order().ToList();
            return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
        }
    }

    /// <summary><c>torch.mm</c> of two <paramref name="size"/>² float32 matrices, one uncounted warm-up product, then
    /// <paramref name="repeats"/> timed products (GFLOP/s = 2·n³ / seconds each); the CPU seconds of the whole process over them.</summary>
    public static SgemmRate Measure(int size = 2048, int repeats = 5)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var a = rand([size, size], generator: g);
        var b = rand([size, size], generator: g);
        a.mm(b).Dispose(); // warm-up: oneDNN/MKL pick their kernels and thread pools on the first call
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var rates = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            a.mm(b).Dispose();
            rates.Add(2.0 * size * size * size / clock.Elapsed.TotalSeconds / 1e9);
        }
        process.Refresh();
        return new SgemmRate(size, rates, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
    }
}
