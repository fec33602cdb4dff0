using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras SpatialDropout2D: drops whole feature maps of an (H, W, C) input (noise shape (batch, 1, 1, C)).</summary>
public sealed record SpatialDropout2D : Layer
{
    [Range(0, 1, MaxExclusive = true)] public required double Rate { get; init; }
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    public int? Seed { get; init; }
    /// <summary>tf.keras writes it (null); the noise shape is fixed by the layer.</summary>
    public int[]? NoiseShape { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireRank(inputs[0], 3, inputs[0].Rank < 3 ? "add Reshape to (H, W, C)" : null);
        return [inputs[0]];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Rate);

    private sealed class Module(string name, double rate) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) =>
            Dropout.Apply(input, rate, context, [input.shape[0], 1, 1, input.shape[3]]);
    }
}
