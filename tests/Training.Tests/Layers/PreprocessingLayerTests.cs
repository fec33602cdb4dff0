using TrainingService.Training.Layers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Layers;

/// <summary>The image preprocessing and augmentation layers: Keras's output shapes (no parameters), forward passes
/// worked out by hand (TensorFlow's half-pixel resizing, the centred aspect-ratio window, affine transforms whose
/// result is known exactly), and the random layers passing images through unchanged in inference.</summary>
public class PreprocessingLayerTests
{
    private static Tensor Image(int h, int w) => arange(h * w, dtype: ScalarType.Float32).reshape(1, h, w, 1);

    [Theory]
    [InlineData("""{"type": "Resizing", "height": 4, "width": 6}""", new[] { 9, 7, 3 }, new[] { 4, 6, 3 })]
    [InlineData("""{"type": "Resizing", "height": 2, "width": 2, "crop_to_aspect_ratio": true, "interpolation": "nearest"}""", new[] { -1, -1, 3 }, new[] { 2, 2, 3 })]
    [InlineData("""{"type": "CenterCrop", "height": 3, "width": 2}""", new[] { 5, 5, 1 }, new[] { 3, 2, 1 })]
    [InlineData("""{"type": "RandomCrop", "height": 24, "width": 24}""", new[] { 32, 32, 3 }, new[] { 24, 24, 3 })]
    [InlineData("""{"type": "RandomFlip", "mode": "horizontal"}""", new[] { 8, 8, 3 }, new[] { 8, 8, 3 })]
    [InlineData("""{"type": "RandomRotation", "factor": 0.1}""", new[] { 8, 6, 2 }, new[] { 8, 6, 2 })]
    [InlineData("""{"type": "RandomZoom", "height_factor": [-0.2, 0.3]}""", new[] { 8, 6, 2 }, new[] { 8, 6, 2 })]
    [InlineData("""{"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.2}""", new[] { 8, 6, 2 }, new[] { 8, 6, 2 })]
    [InlineData("""{"type": "RandomContrast", "factor": 0.2}""", new[] { 8, 6, 2 }, new[] { 8, 6, 2 })]
    public void OutputShape_IsKeras_WithNoParameters(string json, int[] input, int[] output)
    {
        var layer = LayerTestKit.Parse(json);
        Assert.Equal(new Shape(output), layer.OutputShapes([new Shape(input)])[0]);
        Assert.Equal((0L, 0L), layer.CountParameters([new Shape(input)]));
    }

    [Theory]
    [InlineData("""{"type": "Resizing", "height": 2, "width": 2, "pad_to_aspect_ratio": true}""", "layer.pad_to_aspect_ratio")]
    [InlineData("""{"type": "Resizing", "height": 2, "width": 2, "interpolation": "bicubic"}""", "layer.interpolation")]
    [InlineData("""{"type": "Resizing", "height": 2, "width": 2, "antialias": true}""", "layer.antialias")]
    [InlineData("""{"type": "RandomRotation", "factor": 1.5}""", "layer.factor")]
    [InlineData("""{"type": "RandomTranslation", "height_factor": 0.1, "width_factor": [0.1, 1.2]}""", "layer.width_factor")]
    [InlineData("""{"type": "RandomContrast", "factor": [0.1, 1.5]}""", "layer.factor")]
    [InlineData("""{"type": "RandomFlip", "mode": "diagonal"}""", "layer.mode")]
    [InlineData("""{"type": "RandomZoom", "height_factor": 0.1, "fill_mode": "mirror"}""", "layer.fill_mode")]
    [InlineData("""{"type": "CenterCrop", "height": 2, "width": 2, "data_format": "channels_first"}""", "layer.data_format")]
    public void RefusedConfig_NamesTheKey(string json, string path) =>
        Assert.Contains(LayerTestKit.ParseErrors(json), e => e.ToString().Contains(path));

    [Fact]
    public void Keras3Configs_WithEveryKeyTheyWrite_Parse()
    {
        LayerTestKit.Parse<Resizing>("""
            {"type": "Resizing", "name": "resizing", "trainable": true, "dtype": "float32", "height": 4, "width": 4, "interpolation": "bilinear",
             "data_format": "channels_last", "crop_to_aspect_ratio": false, "pad_to_aspect_ratio": false, "fill_mode": "constant", "fill_value": 0.0, "antialias": false}
            """);
        LayerTestKit.Parse<RandomRotation>("""
            {"type": "RandomRotation", "name": "r", "trainable": true, "dtype": "float32", "factor": [-0.1, 0.1], "data_format": "channels_last",
             "fill_mode": "reflect", "fill_value": 0.0, "interpolation": "bilinear", "seed": null}
            """);
        LayerTestKit.Parse<RandomContrast>("""{"type": "RandomContrast", "factor": [0.2, 0.2], "value_range": [0, 255], "seed": 42}""");
        LayerTestKit.Parse<RandomFlip>("""{"type": "RandomFlip", "mode": "horizontal_and_vertical", "seed": null, "data_format": "channels_last"}""");
        LayerTestKit.Parse<RandomZoom>("""
            {"type": "RandomZoom", "height_factor": [-0.1, 0.1], "width_factor": null, "fill_mode": "reflect", "interpolation": "bilinear",
             "seed": null, "fill_value": 0.0, "data_format": "channels_last"}
            """);
    }

    [Fact]
    public void Resizing_Bilinear_UsesHalfPixelCentres()
    {
        var layer = LayerTestKit.Parse("""{"type": "Resizing", "height": 4, "width": 4}""");
        using var module = LayerTestKit.Build(layer, new Shape(2, 2, 1));
        var y = LayerTestKit.Run(module, tensor(new float[] { 1, 2, 3, 4 }, [1, 2, 2, 1]));
        // Output index o samples (o + 0.5) / 2 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped: weights t = 0, 0.25, 0.75, 1;
        // the image is 1 + 2·row + col, so the result is 1 + 2·t_row + t_col.
        float[] t = [0, 0.25f, 0.75f, 1];
        var expected = zeros(1, 4, 4, 1);
        for (var i = 0; i < 4; i++)
        for (var j = 0; j < 4; j++) expected[0, i, j, 0] = 1 + 2 * t[i] + t[j];
        LayerTestKit.Close(expected, y);
    }

    [Fact]
    public void Resizing_Nearest_ReadsFloorOfTheScaledHalfPixelCentre()
    {
        var layer = LayerTestKit.Parse("""{"type": "Resizing", "height": 2, "width": 2, "interpolation": "nearest"}""");
        using var module = LayerTestKit.Build(layer, new Shape(4, 4, 1));
        // floor((o + 0.5) · 2) = 1, 3.
        LayerTestKit.Close(tensor(new float[] { 5, 7, 13, 15 }, [1, 2, 2, 1]), LayerTestKit.Run(module, Image(4, 4)));
    }

    [Fact]
    public void Resizing_CropToAspectRatio_CutsTheCentredWindowFirst()
    {
        var layer = LayerTestKit.Parse("""{"type": "Resizing", "height": 2, "width": 2, "crop_to_aspect_ratio": true}""");
        using var module = LayerTestKit.Build(layer, new Shape(4, 6, 1));
        var y = LayerTestKit.Run(module, Image(4, 6));
        // Window 4x4 at column 1; halving samples positions 0.5 and 2.5: the mean of each 2x2 block of r·6 + c.
        var expected = zeros(1, 2, 2, 1);
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 2; j++) expected[0, i, j, 0] = (2 * i + 0.5f) * 6 + 1 + 2 * j + 0.5f;
        LayerTestKit.Close(expected, y);
    }

    [Fact]
    public void CenterCrop_TakesTheWindowAtHalfTheDifference()
    {
        var layer = LayerTestKit.Parse("""{"type": "CenterCrop", "height": 3, "width": 2}""");
        using var module = LayerTestKit.Build(layer, new Shape(5, 5, 1));
        var x = Image(5, 5);
        LayerTestKit.Close(x[.., 1..4, 1..3, ..], LayerTestKit.Run(module, x));
    }

    [Fact]
    public void CenterCrop_OfASmallerImage_ResizesItsAspectWindow()
    {
        var layer = LayerTestKit.Parse("""{"type": "CenterCrop", "height": 4, "width": 4}""");
        using var module = LayerTestKit.Build(layer, new Shape(2, 4, 1));
        // Window 2x2 at column 1 (values 1, 2 / 5, 6), then bilinear to 4x4: 1 + 4·t_row + t_col.
        var y = LayerTestKit.Run(module, Image(2, 4));
        float[] t = [0, 0.25f, 0.75f, 1];
        var expected = zeros(1, 4, 4, 1);
        for (var i = 0; i < 4; i++)
        for (var j = 0; j < 4; j++) expected[0, i, j, 0] = 1 + 4 * t[i] + t[j];
        LayerTestKit.Close(expected, y);
    }

    [Theory]
    [InlineData("""{"type": "RandomFlip"}""")]
    [InlineData("""{"type": "RandomRotation", "factor": 0.3, "fill_mode": "constant"}""")]
    [InlineData("""{"type": "RandomZoom", "height_factor": 0.3}""")]
    [InlineData("""{"type": "RandomTranslation", "height_factor": 0.3, "width_factor": 0.3, "fill_mode": "wrap"}""")]
    [InlineData("""{"type": "RandomContrast", "factor": 0.5}""")]
    public void RandomLayer_InInference_PassesImagesUnchanged(string json)
    {
        var layer = LayerTestKit.Parse(json);
        using var module = LayerTestKit.Build(layer, new Shape(5, 4, 2));
        var x = rand(3, 5, 4, 2) * 255;
        LayerTestKit.Close(x, LayerTestKit.Run(module, x, training: false), 0);
    }

    [Fact]
    public void RandomCrop_InInference_ResizesTheCentredAspectWindow_AndInTrainingCutsAWindow()
    {
        var layer = LayerTestKit.Parse("""{"type": "RandomCrop", "height": 2, "width": 3}""");
        using var module = LayerTestKit.Build(layer, new Shape(4, 6, 1));
        var x = Image(4, 6);
        // Inference: the 4x6 window is the whole image (same aspect ratio), halved: means of 2x2 blocks.
        var expected = zeros(1, 2, 3, 1);
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 3; j++) expected[0, i, j, 0] = (2 * i + 0.5f) * 6 + 2 * j + 0.5f;
        LayerTestKit.Close(expected, LayerTestKit.Run(module, x));
        for (var k = 0; k < 5; k++)
        {
            var y = LayerTestKit.Run(module, x, training: true);
            var top = (long)y[0, 0, 0, 0].item<float>() / 6;
            var left = (long)y[0, 0, 0, 0].item<float>() % 6;
            LayerTestKit.Close(x[.., (int)top..(int)(top + 2), (int)left..(int)(left + 3), ..], y, 0);
        }
    }

    [Fact]
    public void RandomFlip_Horizontal_InTraining_MirrorsSomeImagesAndKeepsTheOthers()
    {
        var layer = LayerTestKit.Parse("""{"type": "RandomFlip", "mode": "horizontal"}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 4, 1));
        var x = (arange(12, dtype: ScalarType.Float32).reshape(1, 3, 4, 1)).repeat(32, 1, 1, 1);
        var y = LayerTestKit.Run(module, x, training: true);
        int flipped = 0, kept = 0;
        for (var i = 0; i < 32; i++)
        {
            if (y[i].eq(x[i]).all().item<bool>()) kept++;
            else if (y[i].eq(x[i].flip(1)).all().item<bool>()) flipped++;
        }
        Assert.Equal(32, flipped + kept);
        Assert.True(flipped > 0 && kept > 0, $"flipped {flipped}, kept {kept}");
    }

    [Fact]
    public void RandomRotation_ByHalfATurn_TurnsTheImageUpsideDown()
    {
        var layer = LayerTestKit.Parse("""{"type": "RandomRotation", "factor": [0.5, 0.5], "fill_mode": "constant"}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 4, 1));
        var x = Image(3, 4);
        LayerTestKit.Close(x.flip(1, 2), LayerTestKit.Run(module, x, training: true), 1e-4);
    }

    [Fact]
    public void RandomTranslation_ByAQuarterOfTheWidth_ShiftsOnePixelRight_FillingWithTheFillValue()
    {
        var layer = LayerTestKit.Parse("""{"type": "RandomTranslation", "height_factor": [0, 0], "width_factor": [0.25, 0.25], "fill_mode": "constant", "fill_value": 9}""");
        using var module = LayerTestKit.Build(layer, new Shape(2, 4, 1));
        var y = LayerTestKit.Run(module, Image(2, 4), training: true);
        LayerTestKit.Close(tensor(new float[] { 9, 0, 1, 2, 9, 4, 5, 6 }, [1, 2, 4, 1]), y, 1e-5);
    }

    [Fact]
    public void RandomZoom_In_ByHalf_ReadsTheCentralHalf()
    {
        var layer = LayerTestKit.Parse("""{"type": "RandomZoom", "height_factor": [-0.5, -0.5]}""");
        using var module = LayerTestKit.Build(layer, new Shape(5, 5, 1));
        var y = LayerTestKit.Run(module, Image(5, 5), training: true);
        // Zoom 0.5 about the centre (2, 2): output (i, j) reads (0.5·i + 1, 0.5·j + 1); bilinear on r·5 + c is exact.
        var expected = zeros(1, 5, 5, 1);
        for (var i = 0; i < 5; i++)
        for (var j = 0; j < 5; j++) expected[0, i, j, 0] = (0.5f * i + 1) * 5 + 0.5f * j + 1;
        LayerTestKit.Close(expected, y, 1e-4);
    }

    [Fact]
    public void RandomContrast_InTraining_ScalesDeviationsFromEachChannelMean_WithinTheFactor()
    {
        var layer = LayerTestKit.Parse("""{"type": "RandomContrast", "factor": 0.5, "value_range": [-100, 100]}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 3, 2));
        var x = rand(4, 3, 3, 2);
        var y = LayerTestKit.Run(module, x, training: true);
        for (var n = 0; n < 4; n++)
        {
            var mean = x[n].mean([0, 1], keepdim: true);
            var k = ((y[n] - mean)[0, 0, 0] / (x[n] - mean)[0, 0, 0]).item<float>();
            Assert.InRange(k, 0.5f, 1.5f);
            LayerTestKit.Close((x[n] - mean) * k + mean, y[n], 1e-4);
        }
    }
}
