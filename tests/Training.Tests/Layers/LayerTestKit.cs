using System.Text.Json;
using TrainingService.Training.Layers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Layers;

/// <summary>Parsing, building and running single layers the way the engine does, for the layer tests.</summary>
internal static class LayerTestKit
{
    public static Layer Parse(string json)
    {
        var errors = new List<SpecError>();
        using var doc = JsonDocument.Parse(json);
        var layer = LayerRegistry.Parse(doc.RootElement, "layer", errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => e.ToString())));
        Assert.NotNull(layer);
        return layer with { Name = string.IsNullOrEmpty(layer.Name) ? "layer" : layer.Name };
    }

    public static T Parse<T>(string json) where T : Layer => Assert.IsType<T>(Parse(json));

    public static List<SpecError> ParseErrors(string json)
    {
        var errors = new List<SpecError>();
        using var doc = JsonDocument.Parse(json);
        LayerRegistry.Parse(doc.RootElement, "layer", errors);
        return errors;
    }

    public static LayerModule Build(Layer layer, params Shape[] inputs) => layer.Build(inputs, new BuildContext(new Generator(7)));

    public static Tensor[] Run(LayerModule module, Tensor[] inputs, bool training = false, Tensor? mask = null)
    {
        var context = new ForwardContext(training, new Generator(11)) { InputMask = mask };
        return module.Forward(inputs, context);
    }

    public static Tensor Run(LayerModule module, Tensor input, bool training = false, Tensor? mask = null) =>
        Run(module, [input], training, mask)[0];

    public static Tensor Tensor(float[] values, params long[] shape) => tensor(values, shape);

    public static void Close(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tolerance, $"max |expected - actual| = {diff} > {tolerance}\nexpected {expected.ToString(TorchSharp.TensorStringStyle.Numpy)}\nactual {actual.ToString(TorchSharp.TensorStringStyle.Numpy)}");
    }
}
