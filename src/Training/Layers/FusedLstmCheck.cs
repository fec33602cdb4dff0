using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// libtorch runs a float32 LSTM on the CPU through oneDNN, whose AVX-512 kernel gives wrong outputs for some shapes on
/// some processors. Measured on a 2-core AMD EPYC (Zen 5, AVX-512): errors of 1e-2 to 1 for hidden sizes 1–16, 33, 48
/// and 100, exact results for 17–32, 64 and 128; GRU and SimpleRNN unaffected; correct with ONEDNN_MAX_CPU_ISA=AVX2.
/// Which shapes fail depends on the processor, so nothing here is a list: each (input, units, bias) shape is checked
/// once per process against the same kernel in float64 (which oneDNN does not run), and a shape that fails uses the
/// step loop, which computes the same equations from plain matrix products.
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
        using var noGrad = no_grad();
        using var single = nn.LSTM(inputDim, units, bias: bias, batchFirst: true);
        using var reference = nn.LSTM(inputDim, units, bias: bias, batchFirst: true);
        reference.to(ScalarType.Float64);
        var random = new Random(17);
        Tensor Draw(params long[] shape) =>
            tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(), shape);
        foreach (var (name, p) in single.named_parameters())
        {
            p.copy_(Draw(p.shape));
            reference.get_parameter(name)!.copy_(p.to_type(ScalarType.Float64));
        }
        var x = Draw(2, 5, inputDim);
        var (fast, _, _) = single.forward(x);
        var (exact, _, _) = reference.forward(x.to_type(ScalarType.Float64));
        var error = (fast.to_type(ScalarType.Float64) - exact).abs().max().item<double>();
        set_rng_state(rngState);
        return error <= Tolerance;
    }
}
