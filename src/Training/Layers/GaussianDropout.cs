using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GaussianDropout: multiplies by N(1, rate / (1 − rate)) noise in training only.</summary>
public sealed record GaussianDropout : Layer
{
    [Range(0, 1, MaxExclusive = true)] public required double Rate { get; init; }
    public int? Seed { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Rate);

    private sealed class Module(string name, double rate) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context) =>
            !context.Training || rate == 0 ? x : x * empty_like(x).normal_(1, Math.Sqrt(rate / (1 - rate)), context.Rng);
    }
}
