using TorchSharp.Modules;
using TrainingService.Training.Optimizers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Optimizers;

/// <summary>Runs an optimizer on one small parameter with given gradients (through autograd: loss = Σ w·g).</summary>
internal static class OptimizerHarness
{
    public static readonly double[] W0 = [1.0, -2.0, 0.5];

    public static readonly double[][] Grads =
    [
        [0.1, -0.2, 0.3],
        [-0.5, 0.4, 0.05],
        [0.25, 0.25, -1.5],
    ];

    public static (Optimizer Optimizer, Parameter Parameter) Create(OptimizerConfig config, double[]? w0 = null)
    {
        var p = new Parameter(tensor((w0 ?? W0).Select(x => (float)x).ToArray()));
        return (config.Create([("w", p)]), p);
    }

    public static void Step(Optimizer optimizer, Parameter p, double[] grad)
    {
        optimizer.ZeroGrad();
        var g = tensor(grad.Select(x => (float)x).ToArray());
        (p * g).sum().backward();
        optimizer.Step();
    }

    /// <summary>Weights after each of the steps.</summary>
    public static double[][] Run(OptimizerConfig config, double[][]? grads = null)
    {
        var (optimizer, p) = Create(config);
        var result = new List<double[]>();
        foreach (var g in grads ?? Grads)
        {
            Step(optimizer, p, g);
            result.Add(p.data<float>().Select(x => (double)x).ToArray());
        }
        return result.ToArray();
    }

    public static void AssertClose(double[][] expected, double[][] actual, double tolerance = 2e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var s = 0; s < expected.Length; s++)
            for (var i = 0; i < expected[s].Length; i++)
                Assert.True(Math.Abs(expected[s][i] - actual[s][i]) <= tolerance * Math.Max(1, Math.Abs(expected[s][i])),
                    $"step {s + 1}, element {i}: expected {expected[s][i]:R}, got {actual[s][i]:R}");
    }

    /// <summary>Applies a per-element update rule (written from Keras's formulas) to W0 for every gradient.</summary>
    public static double[][] Expected(Func<int, double, double, long, double> update, double[][]? grads = null)
    {
        var w = (double[])W0.Clone();
        var result = new List<double[]>();
        var t = 0L;
        foreach (var g in grads ?? Grads)
        {
            t++;
            for (var i = 0; i < w.Length; i++) w[i] = update(i, w[i], g[i], t);
            result.Add((double[])w.Clone());
        }
        return result.ToArray();
    }
}
