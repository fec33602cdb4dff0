using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras SpatialDropout1D: drops whole feature channels of a (steps, channels) input, the same channels at
/// every step (noise shape (batch, 1, channels)).</summary>
public sealed record SpatialDropout1D : Layer
{
    [Range(0, 1, MaxExclusive = true)] public required double Rate { get; init; }
    public int? Seed { get; init; }
    /// <summary>tf.keras writes it (null); the noise shape is fixed by the layer.</summary>
    public int[]? NoiseShape { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireRank(inputs[0], 2, inputs[0].Rank == 1 ? "add Reshape to (steps, 1)" : "use SpatialDropout2D for images");
        return [inputs[0]];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Rate);

    private sealed class Module(string name, double rate) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) =>
            Dropout.Apply(input, rate, context, [input.shape[0], 1, input.shape[2]]);
    }
}
