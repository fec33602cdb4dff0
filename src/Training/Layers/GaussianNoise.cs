using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GaussianNoise: adds N(0, stddev²) noise in training only (the run's generator).</summary>
public sealed record GaussianNoise : Layer
{
    [Range(0)] public required double Stddev { get; init; }
    public int? Seed { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Stddev);

    private sealed class Module(string name, double stddev) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context) =>
            !context.Training || stddev == 0 ? x : x + empty_like(x).normal_(0, stddev, context.Rng);
    }
}
