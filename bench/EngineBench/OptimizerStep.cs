using System.Diagnostics;
using TorchSharp.Modules;
using TrainingService.Training.Optimizers;
using static TorchSharp.torch;

namespace TrainingService.Bench;

/// <summary>The optimizer step alone, fused against per parameter: parameters shaped as <paramref name="shapes"/>
/// (repeated <paramref name="copies"/> times), gradients from one backward pass, then many steps timed by wall clock
/// and by this process's CPU time.</summary>
internal static class OptimizerStep
{
    public static (double WallMs, double CpuMs) Time(OptimizerConfig config, long[][] shapes, int copies, bool fuse, int steps)
    {
        using var scope = NewDisposeScope();
        var named = Enumerable.Range(0, copies).SelectMany(c => shapes.Select((s, i) => ($"p{c}_{i}", new Parameter(randn(s) * 0.1)))).ToList();
        using var optimizer = config.Create(named);
        optimizer.Fuse = fuse;
        optimizer.ZeroGrad();
        named.Select(p => p.Item2.square().sum()).Aggregate((a, b) => a + b).backward();
        for (var i = 0; i < 3; i++) optimizer.Step(); // warm-up; the first step builds the flat buffers
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) optimizer.Step();
        var wall = clock.Elapsed.TotalMilliseconds / steps;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpu).TotalMilliseconds / steps);
    }
}
