using TrainingService.Training.Layers;

namespace TrainingService.Training.Tests.Layers;

/// <summary>Output shapes and parameter counts of the convolution family, worked out by hand from Keras's rules
/// (kernel·in/groups·filters + filters; depthwise k·in·m + in·m; separable k·in·m + in·m·filters + filters).</summary>
public class ConvolutionFamilyShapeTests
{
    [Theory]
    [InlineData("""{"type": "Conv2D", "filters": 6, "kernel_size": 3, "groups": 3}""", new[] { 8, 8, 9 }, new[] { 6, 6, 6 }, 3 * 3 * 3 * 6 + 6)]
    [InlineData("""{"type": "Conv1D", "filters": 8, "kernel_size": 5, "groups": 4, "padding": "same", "strides": 2}""", new[] { 11, 4 }, new[] { 6, 8 }, 5 * 1 * 8 + 8)]
    [InlineData("""{"type": "Conv3D", "filters": 4, "kernel_size": 3}""", new[] { 5, 6, 7, 2 }, new[] { 3, 4, 5, 4 }, 27 * 2 * 4 + 4)]
    [InlineData("""{"type": "Conv3D", "filters": 4, "kernel_size": 2, "strides": 2, "padding": "same", "use_bias": false}""", new[] { 5, 6, 7, 2 }, new[] { 3, 3, 4, 4 }, 8 * 2 * 4)]
    [InlineData("""{"type": "Conv1DTranspose", "filters": 3, "kernel_size": 4, "strides": 2}""", new[] { 5, 2 }, new[] { 12, 3 }, 4 * 3 * 2 + 3)]
    [InlineData("""{"type": "Conv1DTranspose", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}""", new[] { 5, 2 }, new[] { 10, 3 }, 3 * 3 * 2 + 3)]
    [InlineData("""{"type": "DepthwiseConv2D", "kernel_size": 3}""", new[] { 8, 8, 16 }, new[] { 6, 6, 16 }, 9 * 16 + 16)]
    [InlineData("""{"type": "DepthwiseConv2D", "kernel_size": [3, 1], "depth_multiplier": 3, "strides": 2, "padding": "same"}""", new[] { 7, 4, 2 }, new[] { 4, 2, 6 }, 3 * 2 * 3 + 6)]
    [InlineData("""{"type": "DepthwiseConv1D", "kernel_size": 4, "depth_multiplier": 2, "use_bias": false}""", new[] { 10, 3 }, new[] { 7, 6 }, 4 * 3 * 2)]
    [InlineData("""{"type": "SeparableConv2D", "filters": 32, "kernel_size": 3}""", new[] { 10, 10, 16 }, new[] { 8, 8, 32 }, 9 * 16 + 16 * 32 + 32)]
    [InlineData("""{"type": "SeparableConv2D", "filters": 8, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "dilation_rate": 2}""", new[] { 9, 9, 4 }, new[] { 9, 9, 8 }, 9 * 4 * 2 + 8 * 8 + 8)]
    [InlineData("""{"type": "SeparableConv1D", "filters": 5, "kernel_size": 3, "strides": 2}""", new[] { 9, 4 }, new[] { 4, 5 }, 3 * 4 + 4 * 5 + 5)]
    public void OutputShapeAndParameterCount_AreKeras(string json, int[] input, int[] output, long parameters)
    {
        var layer = LayerTestKit.Parse(json);
        var shape = new Shape(input);
        Assert.Equal(new Shape(output), layer.OutputShapes([shape])[0]);
        Assert.Equal((parameters, 0L), layer.CountParameters([shape]));
    }

    [Theory]
    [InlineData("""{"type": "Conv2D", "filters": 5, "kernel_size": 3, "groups": 2}""", "layer.groups")]
    [InlineData("""{"type": "DepthwiseConv2D", "kernel_size": 3, "groups": 2}""", "layer.groups")]
    [InlineData("""{"type": "DepthwiseConv2D", "kernel_size": 3, "depthwise_constraint": {"class_name": "MaxNorm", "config": {}}}""", "layer.depthwise_constraint")]
    [InlineData("""{"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "pointwise_constraint": {"class_name": "NonNeg", "config": {}}}""", "layer.pointwise_constraint")]
    [InlineData("""{"type": "SeparableConv1D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}""", "layer.strides")]
    [InlineData("""{"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3, "groups": 2}""", "layer.groups")]
    public void RefusedConfig_NamesTheKey(string json, string path) =>
        Assert.Contains(LayerTestKit.ParseErrors(json), e => e.ToString().Contains(path));

    [Fact]
    public void GroupedConv2D_InputChannelsNotDivisibleByGroups_IsAShapeError()
    {
        var layer = LayerTestKit.Parse("""{"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 2}""");
        var e = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(5, 5, 3)]));
        Assert.Contains("groups", e.Message);
    }

    [Fact]
    public void DepthwiseConv2D_TfKerasConfig_WithGroups1_Parses()
    {
        var layer = LayerTestKit.Parse<DepthwiseConv2D>("""
            {"type": "DepthwiseConv2D", "name": "dw", "trainable": true, "dtype": "float32", "kernel_size": [3, 3], "strides": [1, 1],
             "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "linear", "use_bias": false,
             "bias_initializer": {"class_name": "Zeros", "config": {}}, "bias_regularizer": null, "activity_regularizer": null, "bias_constraint": null,
             "depth_multiplier": 1, "depthwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
             "depthwise_regularizer": null, "depthwise_constraint": null}
            """);
        Assert.Equal(new Shape(4, 4, 3), layer.OutputShapes([new Shape(4, 4, 3)])[0]);
    }
}
