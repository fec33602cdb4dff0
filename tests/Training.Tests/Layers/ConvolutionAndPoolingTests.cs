using TrainingService.Training.Layers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Layers;

public class ConvolutionAndPoolingTests
{
    [Fact]
    public void Conv2D_SameWithStride2_PadsLikeKeras_ExtraPaddingAtTheEnd()
    {
        var layer = LayerTestKit.Parse("""{"type": "Conv2D", "filters": 1, "kernel_size": 3, "strides": 2, "padding": "same", "kernel_initializer": "ones"}""");
        var shape = layer.OutputShapes([new Shape(6, 7, 1)])[0];
        Assert.Equal(new Shape(3, 4, 1), shape); // ceil(6/2), ceil(7/2)

        using var module = LayerTestKit.Build(layer, new Shape(6, 7, 1));
        var x = arange(42, ScalarType.Float32).reshape(1, 6, 7, 1);
        var y = LayerTestKit.Run(module, x);
        // Height 6: total padding 1, all of it at the bottom, so output row 0 reads rows 0..2 (no padding above).
        // Width 7: total padding 2, one each side, so output column 0 reads columns -1..1.
        var expected = zeros(1, 3, 4, 1);
        for (var r = 0; r < 3; r++)
        for (var c = 0; c < 4; c++)
        {
            var sum = 0f;
            for (var i = 2 * r; i < 2 * r + 3; i++)
            for (var j = 2 * c - 1; j < 2 * c + 2; j++)
                if (i < 6 && j is >= 0 and < 7) sum += i * 7 + j;
            expected[0, r, c, 0] = sum;
        }
        LayerTestKit.Close(expected, y);
    }

    [Fact]
    public void Conv2DTranspose_Same_MatchesTheScatterDefinitionCroppedLikeTensorFlow()
    {
        var layer = LayerTestKit.Parse("""{"type": "Conv2DTranspose", "filters": 1, "kernel_size": 3, "strides": 2, "padding": "same", "kernel_initializer": "ones", "bias_initializer": "ones"}""");
        Assert.Equal(new Shape(4, 6, 1), layer.OutputShapes([new Shape(2, 3, 1)])[0]);
        using var module = LayerTestKit.Build(layer, new Shape(2, 3, 1));
        var x = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [1, 2, 3, 1]);
        var y = LayerTestKit.Run(module, x);
        // Each input pixel adds its value to a 3x3 block at (2i, 2j) of a 5x7 canvas; "same" keeps [0, 4) x [0, 6)
        // (the padding (k - s) / 2 = 0 is cropped at the start, the rest at the end); the bias (1) comes last.
        var expected = ones(1, 4, 6, 1);
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 3; j++)
        for (var r = 2 * i; r < Math.Min(2 * i + 3, 4); r++)
        for (var c = 2 * j; c < Math.Min(2 * j + 3, 6); c++)
            expected[0, r, c, 0] += (float)(i * 3 + j + 1);
        LayerTestKit.Close(expected, y);
    }

    [Fact]
    public void Conv1D_Causal_OutputAtStepT_SeesOnlyStepsUpToT()
    {
        var layer = LayerTestKit.Parse("""{"type": "Conv1D", "filters": 1, "kernel_size": 2, "dilation_rate": 2, "padding": "causal", "kernel_initializer": "ones"}""");
        using var module = LayerTestKit.Build(layer, new Shape(5, 1));
        var y = LayerTestKit.Run(module, tensor(new float[] { 1, 2, 3, 4, 5 }, [1, 5, 1]));
        // y[t] = x[t] + x[t-2], with zeros before the start.
        LayerTestKit.Close(tensor(new float[] { 1, 2, 4, 6, 8 }, [1, 5, 1]), y);
    }

    [Fact]
    public void AveragePooling2D_Same_LeavesPaddingOutOfTheAverage()
    {
        var layer = LayerTestKit.Parse("""{"type": "AveragePooling2D", "pool_size": 2, "padding": "same"}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 3, 1));
        var x = arange(1, 10, dtype: ScalarType.Float32).reshape(1, 3, 3, 1);
        var y = LayerTestKit.Run(module, x);
        // 3x3 pooled 2x2 stride 2 "same": padding 1 at the bottom and right; edge windows average fewer elements.
        var expected = tensor(new float[] { (1 + 2 + 4 + 5) / 4f, (3 + 6) / 2f, (7 + 8) / 2f, 9 }, [1, 2, 2, 1]);
        LayerTestKit.Close(expected, y);
    }

    [Fact]
    public void MaxPooling1D_Same_IgnoresPadding()
    {
        var layer = LayerTestKit.Parse("""{"type": "MaxPooling1D", "pool_size": 2, "padding": "same"}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 1));
        var y = LayerTestKit.Run(module, tensor(new float[] { -3, -2, -1 }, [1, 3, 1]));
        LayerTestKit.Close(tensor(new float[] { -2, -1 }, [1, 2, 1]), y);
    }

    [Fact]
    public void UpSampling2D_Nearest_RepeatsRowsAndColumns()
    {
        var layer = LayerTestKit.Parse("""{"type": "UpSampling2D", "size": [2, 3]}""");
        using var module = LayerTestKit.Build(layer, new Shape(1, 2, 1));
        var y = LayerTestKit.Run(module, tensor(new float[] { 1, 2 }, [1, 1, 2, 1]));
        LayerTestKit.Close(tensor(new float[] { 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2 }, [1, 2, 6, 1]), y);
    }

    [Fact]
    public void GlobalAveragePooling1D_WithMask_AveragesRealStepsOnly()
    {
        var layer = LayerTestKit.Parse("""{"type": "GlobalAveragePooling1D"}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 1));
        var mask = tensor(new[] { false, true, true }, [1, 3]);
        var y = LayerTestKit.Run(module, tensor(new float[] { 100, 2, 4 }, [1, 3, 1]), mask: mask);
        LayerTestKit.Close(tensor(new float[] { 3 }, [1, 1]), y);
    }

    [Fact]
    public void UpSampling2D_Bilinear_UsesHalfPixelCentres_AsKerasImageResize()
    {
        var layer = LayerTestKit.Parse("""{"type": "UpSampling2D", "size": [1, 2], "interpolation": "bilinear"}""");
        using var module = LayerTestKit.Build(layer, new Shape(1, 2, 1));
        var y = LayerTestKit.Run(module, tensor(new float[] { 1, 2 }, [1, 1, 2, 1]));
        // Output column j samples input position (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped at the edges.
        LayerTestKit.Close(tensor(new float[] { 1, 1.25f, 1.75f, 2 }, [1, 1, 4, 1]), y);
    }
}
