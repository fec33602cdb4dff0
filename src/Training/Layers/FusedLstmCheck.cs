using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// libtorch's float32 CPU LSTM without gradients (its oneDNN inference kernel) gives wrong outputs for some shapes on
/// some processors. Measured on a 2-core AMD EPYC (Zen 5, AVX-512): errors of 1e-2 to 1 for hidden sizes 1–16, 33, 48
/// and 100, exact for 17–32, 64 and 128, exact with ONEDNN_MAX_CPU_ISA=AVX2, and exact (2e-8) with gradients enabled;
/// GRU and SimpleRNN unaffected. So the LSTM module always runs the fused kernel with gradients enabled, and this check,
/// done the same way, is the safety net for a processor where that path is wrong too: each (input, units, bias) shape
/// is compared once per process against the kernel in float64 (which oneDNN does not run), and a shape that fails uses
/// the step loop, which computes the same equations from plain matrix products. Nothing here is a list of shapes.
/// </summary>
internal static class FusedLstmCheck
{
    private const double Tolerance = 1e-4;
    private static readonly ConcurrentDictionary<(int Input, int Units, bool Bias), bool> Results = new();

    public static bool IsExact(int inputDim, int units, bool bias) =>
        Results.GetOrAdd((inputDim, units, bias), k => Measure(k.Input, k.Units, k.Bias));

    private static bool Measure(int inputDim, int units, bool bias)
    {
        // Building the modules draws their default initialisation from the global generator: put it back after, so a
        // run's random stream does not depend on whether this shape was checked before in the process.
        using var rngState = get_rng_state();
        using var scope = NewDisposeScope();
        using var single = nn.LSTM(inputDim, units, bias: bias, batchFirst: true);
        using var reference = nn.LSTM(inputDim, units, bias: bias, batchFirst: true);
        reference.to(ScalarType.Float64);
        var random = new Random(17);
        Tensor Draw(params long[] shape) =>
            tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(), shape);
        using (no_grad())
        {
            foreach (var (name, p) in single.named_parameters())
            {
                p.copy_(Draw(p.shape));
                reference.get_parameter(name)!.copy_(p.to_type(ScalarType.Float64));
            }
        }
        var x = Draw(2, 5, inputDim);
        using var grad = enable_grad();   // as LstmModule.Fused runs it
        var (fast, _, _) = single.forward(x);
        var (exact, _, _) = reference.forward(x.to_type(ScalarType.Float64));
        var error = (fast.detach().to_type(ScalarType.Float64) - exact.detach()).abs().max().item<double>();
        set_rng_state(rngState);
        return error <= Tolerance;
    }
}
