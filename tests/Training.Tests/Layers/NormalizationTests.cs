using TrainingService.Training.Layers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Layers;

public class NormalizationTests
{
    [Fact]
    public void BatchNormalization_Training_UsesBatchStatsAndUpdatesMovingStatsWithKerasMomentumAndBiasedVariance()
    {
        var layer = LayerTestKit.Parse("""{"type": "BatchNormalization", "momentum": 0.9}""");
        using var module = LayerTestKit.Build(layer, new Shape(2));
        // Channel 0: 1, 3, 5, 7 (mean 4, biased variance 5; unbiased would be 6.67). Channel 1: all 2.
        var x = tensor(new float[] { 1, 2, 3, 2, 5, 2, 7, 2 }, [4, 2]);
        var y = LayerTestKit.Run(module, x, training: true);

        var buffers = module.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        LayerTestKit.Close(tensor(new float[] { 0.1f * 4, 0.1f * 2 }), buffers["moving_mean"]);
        LayerTestKit.Close(tensor(new float[] { 0.9f + 0.1f * 5, 0.9f + 0.1f * 0 }), buffers["moving_variance"]);
        var expected = tensor(new float[] { -3, 0, -1, 0, 1, 0, 3, 0 }, [4, 2]);
        expected[.., 0] /= MathF.Sqrt(5 + 1e-3f);
        LayerTestKit.Close(expected, y);

        // Inference normalizes with the moving statistics.
        var z = LayerTestKit.Run(module, x, training: false);
        var mm = tensor(new float[] { 0.4f, 0.2f });
        var mv = tensor(new float[] { 1.4f, 0.9f });
        LayerTestKit.Close((x - mm) / (mv + 1e-3f).sqrt(), z);
    }

    [Fact]
    public void BatchNormalization_CountsMovingStatsAsNonTrainable_AndAcceptsTfKerasAxisList()
    {
        var layer = LayerTestKit.Parse("""{"type": "BatchNormalization", "axis": [3]}""");
        Assert.Equal((16L, 16L), layer.CountParameters([new Shape(5, 5, 8)]));
        var channelsFirst = LayerTestKit.Parse("""{"type": "BatchNormalization", "axis": 1}""");
        Assert.Equal((10L, 10L), channelsFirst.CountParameters([new Shape(5, 4, 8)]));
        using var module = LayerTestKit.Build(channelsFirst, new Shape(5, 4, 8));
        var y = LayerTestKit.Run(module, randn(3, 5, 4, 8), training: true);
        // Normalized per axis-1 channel: each of the 5 channels has mean 0 over batch, rows and columns.
        Assert.True(y.mean([0, 2, 3]).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void BatchNormalization_AxisZero_IsRejectedWithTheAcceptedRange()
    {
        var layer = LayerTestKit.Parse("""{"type": "BatchNormalization", "axis": 0}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(4, 3)]));
        Assert.Contains("axis 0", error.Message);
        Assert.Contains("1..2", error.Message);
    }

    [Fact]
    public void LayerNormalization_NormalizesEachExampleOverItsLastAxis_WithKerasEpsilon()
    {
        var layer = LayerTestKit.Parse("""{"type": "LayerNormalization"}""");
        using var module = LayerTestKit.Build(layer, new Shape(4));
        var x = tensor(new float[] { 1, 2, 3, 4, 10, 10, 10, 14 }, [2, 4]);
        var y = LayerTestKit.Run(module, x);
        var mean = x.mean([1], keepdim: true);
        var variance = (x - mean).square().mean([1], keepdim: true);
        LayerTestKit.Close((x - mean) / (variance + 1e-3).sqrt(), y);
    }

    [Fact]
    public void LayerNormalization_RmsScaling_ScalesByGammaOnly()
    {
        var layer = LayerTestKit.Parse("""{"type": "LayerNormalization", "rms_scaling": true, "gamma_initializer": {"class_name": "Constant", "config": {"value": 2.0}}}""");
        Assert.Equal((4L, 0L), layer.CountParameters([new Shape(4)]));
        using var module = LayerTestKit.Build(layer, new Shape(4));
        var x = tensor(new float[] { 1, 2, 3, 4 }, [1, 4]);
        var variance = (x - x.mean([1], keepdim: true)).square().mean([1], keepdim: true);
        LayerTestKit.Close(x * (variance + 1e-3).rsqrt() * 2, LayerTestKit.Run(module, x));
    }
}
