using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Cropping1D on (steps, features): drops <c>cropping</c> steps at the start and end.</summary>
public sealed record Cropping1D : Layer
{
    [Tuple(2), Range(0)] public int[] Cropping { get; init; } = [1, 1];

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 2, "add Reshape to (steps, features)");
        if (x[0] >= 0 && x[0] <= Cropping[0] + Cropping[1]) throw Expects($"more than {Cropping[0] + Cropping[1]} steps to crop", x);
        return [new Shape(x[0] < 0 ? -1 : x[0] - Cropping[0] - Cropping[1], x[1])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Cropping);

    private sealed class Module(string name, int[] c) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) => input.narrow(1, c[0], input.shape[1] - c[0] - c[1]);
    }
}
