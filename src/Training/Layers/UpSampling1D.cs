using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras UpSampling1D on (steps, features): each step repeated <c>size</c> times.</summary>
public sealed record UpSampling1D : Layer
{
    [Range(1)] public int Size { get; init; } = 2;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 2, "add Reshape to (steps, features)");
        return [new Shape(x[0] < 0 ? -1 : x[0] * Size, x[1])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Size);

    private sealed class Module(string name, int size) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) => input.repeat_interleave(size, dim: 1);
    }
}
