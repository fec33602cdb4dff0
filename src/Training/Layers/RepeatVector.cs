using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras RepeatVector: a (features,) input repeated <c>n</c> times into (n, features).</summary>
public sealed record RepeatVector : Layer
{
    [Range(1)] public required int N { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireRank(inputs[0], 1);
        return [new Shape(N, inputs[0][0])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, N);

    private sealed class Module(string name, int n) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) => input.unsqueeze(1).expand(-1, n, -1).contiguous();
    }
}
