using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Flatten: all per-example axes into one, in Keras's (channels-last) order.</summary>
public sealed record Flatten : Layer
{
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var size = inputs[0].Size;
        if (size < 0) throw Expects("an input with no variable dimension", inputs[0]);
        return [new Shape(checked((int)size))];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new FlattenModule(Name);

    private sealed class FlattenModule(string name) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) => input.flatten(1);
    }
}
