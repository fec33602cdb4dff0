using TrainingService.Training.Layers;
using static TorchSharp.torch;
using static TrainingService.Training.Tests.Layers.LayerTestKit;

namespace TrainingService.Training.Tests.Layers;

/// <summary>Activation, noise, merge, normalization and reshaping layers against values worked out by hand.</summary>
public class ActivationAndShapeLayerTests
{
    private static readonly float[] X = [-2f, -0.5f, 0f, 0.5f, 1f, 3f, 7f];

    private static float[] RunOn(string json, float[] x, bool training = false)
    {
        var layer = Parse(json);
        using var module = Build(layer, new Shape(x.Length));
        return Run(module, Tensor(x, 1, x.Length), training).data<float>().ToArray();
    }

    private static void Near(float[] expected, float[] actual, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void ActivationLayers_MatchTheirFormulas()
    {
        Near([-0.6f, -0.15f, 0, 0.5f, 1, 3, 7], RunOn("""{"type": "LeakyReLU"}""", X));                    // Keras 3 default slope 0.3
        Near([-0.2f, -0.05f, 0, 0.5f, 1, 3, 7], RunOn("""{"type": "LeakyReLU", "alpha": 0.1}""", X));
        Near([0, 0, 0, 0.5f, 1, 3, 7], RunOn("""{"type": "ReLU"}""", X));
        // max_value 6, slope 0.1 below threshold 0.5: 0.1·(x − 0.5) below it, x from it, 6 above 6.
        Near([-0.25f, -0.1f, -0.05f, 0.5f, 1, 3, 6], RunOn("""{"type": "ReLU", "max_value": 6, "negative_slope": 0.1, "threshold": 0.5}""", X));
        Near([(float)(Math.Exp(-2) - 1), (float)(Math.Exp(-0.5) - 1), 0, 0.5f, 1, 3, 7], RunOn("""{"type": "ELU"}""", X));
        Near([0, 0, 0, 0, 0, 3, 7], RunOn("""{"type": "ThresholdedReLU"}""", X));   // theta 1: x > 1 only
        var e = X.Select(v => Math.Exp(v)).ToArray();
        Near(e.Select(v => (float)(v / e.Sum())).ToArray(), RunOn("""{"type": "Softmax"}""", X));
        Near([0, 0, 0, 0.5f, 1, 3, 7], RunOn("""{"type": "PReLU"}""", X));          // alpha starts at zeros
        Near([-0.5f, -0.125f, 0, 0.5f, 1, 3, 7], RunOn("""{"type": "PReLU", "alpha_initializer": {"class_name": "Constant", "config": {"value": 0.25}}}""", X));
    }

    [Fact]
    public void Softmax_OnAnotherAxis_NormalisesThatAxis()
    {
        using var module = Build(Parse("""{"type": "Softmax", "axis": 1}"""), new Shape(2, 2));
        var y = Run(module, Tensor([0, 0, Ln(3), 0], 1, 2, 2));
        // column 0: softmax(0, ln 3) = (1/4, 3/4); column 1: (1/2, 1/2)
        Close(Tensor([0.25f, 0.5f, 0.75f, 0.5f], 1, 2, 2), y);
    }

    private static float Ln(double v) => (float)Math.Log(v);

    [Fact]
    public void PReLU_CountsOneAlphaPerUnsharedElement()
    {
        Assert.Equal((12L, 0L), Parse("""{"type": "PReLU"}""").CountParameters([new Shape(4, 3)]));
        Assert.Equal((3L, 0L), Parse("""{"type": "PReLU", "shared_axes": [1]}""").CountParameters([new Shape(4, 3)]));
        Assert.Equal((3L, 0L), Parse("""{"type": "PReLU", "shared_axes": [1, 2]}""").CountParameters([new Shape(5, 5, 3)]));
    }

    [Fact]
    public void NoiseLayers_AreIdentityInInference_AndNoisyInTraining()
    {
        foreach (var json in new[] { """{"type": "GaussianNoise", "stddev": 0.5}""", """{"type": "GaussianDropout", "rate": 0.5}""", """{"type": "AlphaDropout", "rate": 0.5}""" })
        {
            Near(X, RunOn(json, X));
            Assert.NotEqual(X, RunOn(json, X, training: true));
        }
        // AlphaDropout keeps mean 0 and variance 1 of a standard normal input (that is what a and b are for).
        using var module = Build(Parse("""{"type": "AlphaDropout", "rate": 0.2}"""), new Shape(20000));
        var y = Run(module, randn(1, 20000, generator: new Generator(5)), training: true);
        Assert.InRange(y.mean().item<float>(), -0.05f, 0.05f);
        Assert.InRange(y.std().item<float>(), 0.95f, 1.05f);
    }

    [Fact]
    public void ActivityRegularization_AddsItsPenaltyPerExample_InTrainingOnly()
    {
        using var module = Build(Parse("""{"type": "ActivityRegularization", "l1": 0.1, "l2": 0.01}"""), new Shape(2));
        var context = new ForwardContext(true, new Generator(1));
        var y = module.Forward([Tensor([1, -2, 3, 0], 2, 2)], context)[0];
        Close(Tensor([1, -2, 3, 0], 2, 2), y);
        // (0.1·(1+2+3) + 0.01·(1+4+9)) / 2 examples
        Assert.Equal((0.6 + 0.14) / 2, Assert.Single(context.Losses).item<float>(), 5);
    }

    [Fact]
    public void Minimum_AndDot_MatchHandComputedValues()
    {
        using var min = Build(Parse("""{"type": "Minimum"}"""), new Shape(3), new Shape(3));
        Close(Tensor([1, -1, 2], 1, 3), Run(min, [Tensor([1, 5, 2], 1, 3), Tensor([4, -1, 2], 1, 3)])[0]);

        var dot = Parse("""{"type": "Dot", "axes": 1}""");
        Assert.Equal(new Shape(1), dot.OutputShapes([new Shape(3), new Shape(3)])[0]);
        using var d = Build(dot, new Shape(3), new Shape(3));
        Close(Tensor([1 * 4 + 2 * 5 + 3 * 6], 1, 1), Run(d, [Tensor([1, 2, 3], 1, 3), Tensor([4, 5, 6], 1, 3)])[0]);

        var seq = Parse("""{"type": "Dot", "axes": [2, 2]}""");
        Assert.Equal(new Shape(2, 3), seq.OutputShapes([new Shape(2, 2), new Shape(3, 2)])[0]);
        using var s = Build(seq, new Shape(2, 2), new Shape(3, 2));
        // rows of a · rows of b: a = [[1,0],[0,2]], b = [[1,1],[2,0],[0,3]]
        Close(Tensor([1, 2, 0, 2, 0, 6], 1, 2, 3), Run(s, [Tensor([1, 0, 0, 2], 1, 2, 2), Tensor([1, 1, 2, 0, 0, 3], 1, 3, 2)])[0]);

        using var cos = Build(Parse("""{"type": "Dot", "axes": -1, "normalize": true}"""), new Shape(2), new Shape(2));
        Close(Tensor([0.6f], 1, 1), Run(cos, [Tensor([3, 4], 1, 2), Tensor([1, 0], 1, 2)])[0]);   // cos = 3/5
    }

    [Fact]
    public void UnitAndGroupNormalization_MatchHandComputedValues()
    {
        using var unit = Build(Parse("""{"type": "UnitNormalization"}"""), new Shape(2));
        Close(Tensor([0.6f, 0.8f, 0, 0], 2, 2), Run(unit, Tensor([3, 4, 0, 0], 2, 2)));

        var group = Parse("""{"type": "GroupNormalization", "groups": 2, "epsilon": 1e-6}""");
        Assert.Equal((8L, 0L), group.CountParameters([new Shape(3, 4)]));    // gamma and beta per channel
        Assert.Equal((16L, 0L), Parse("""{"type": "GroupNormalization", "groups": 4}""").CountParameters([new Shape(5, 5, 8)]));
        using var g = Build(group, new Shape(1, 4));
        // channels (1, 3 | 10, 20): group 1 mean 2, var 1 → (−1, 1); group 2 mean 15, var 25 → (−1, 1)
        Close(Tensor([-1, 1, -1, 1], 1, 1, 4), Run(g, Tensor([1, 3, 10, 20], 1, 1, 4)), 1e-4);
    }

    [Fact]
    public void Masking_ZeroesAndMasksPaddedSteps()
    {
        using var module = Build(Parse("""{"type": "Masking", "mask_value": -1}"""), new Shape(3, 2));
        var context = new ForwardContext(false, new Generator(1));
        var y = module.Forward([Tensor([1, 2, -1, -1, -1, 3], 1, 3, 2)], context)[0];
        Close(Tensor([1, 2, 0, 0, -1, 3], 1, 3, 2), y);
        Assert.Equal([true, false, true], context.OutputMask!.data<bool>().ToArray());
    }

    [Fact]
    public void CroppingPaddingAndUpSampling_MoveTheRightSteps()
    {
        var x = Tensor([1, 2, 3, 4, 5], 1, 5, 1);
        using (var m = Build(Parse("""{"type": "Cropping1D", "cropping": [1, 2]}"""), new Shape(5, 1))) Close(Tensor([2, 3], 1, 2, 1), Run(m, x));
        using (var m = Build(Parse("""{"type": "ZeroPadding1D", "padding": [2, 1]}"""), new Shape(5, 1))) Close(Tensor([0, 0, 1, 2, 3, 4, 5, 0], 1, 8, 1), Run(m, x));
        using (var m = Build(Parse("""{"type": "UpSampling1D"}"""), new Shape(2, 1))) Close(Tensor([1, 1, 2, 2], 1, 4, 1), Run(m, Tensor([1, 2], 1, 2, 1)));
        Assert.Equal(new Shape(3, 1), Parse("""{"type": "ZeroPadding1D"}""").OutputShapes([new Shape(1, 1)])[0]);
        Assert.Equal(new Shape(9, 2), Parse("""{"type": "UpSampling1D", "size": 3}""").OutputShapes([new Shape(3, 2)])[0]);

        var crop = Parse("""{"type": "Cropping2D", "cropping": [[1, 0], [0, 1]]}""");
        Assert.Equal(new Shape(2, 2, 1), crop.OutputShapes([new Shape(3, 3, 1)])[0]);
        Assert.Equal(new Shape(1, 3, 2), Parse("""{"type": "Cropping2D", "cropping": [1, 0]}""").OutputShapes([new Shape(3, 3, 2)])[0]);
        using var c = Build(crop, new Shape(3, 3, 1));
        Close(Tensor([4, 5, 7, 8], 1, 2, 2, 1), Run(c, Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 3, 3, 1)));
    }
}
