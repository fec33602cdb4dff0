using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras ZeroPadding1D on (steps, features): <c>padding</c> zero steps at the start and end (an int for
/// both, or <c>[start, end]</c>).</summary>
public sealed record ZeroPadding1D : Layer
{
    [Tuple(2), Range(0)] public int[] Padding { get; init; } = [1, 1];

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 2, "add Reshape to (steps, features)");
        return [new Shape(x[0] < 0 ? -1 : x[0] + Padding[0] + Padding[1], x[1])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Padding);

    private sealed class Module(string name, int[] padding) : UnaryModule(name)
    {
        private readonly long[] _pad = [0, 0, padding[0], padding[1]];

        public override Tensor Forward(Tensor input, ForwardContext context) => nn.functional.pad(input, _pad);
    }
}
