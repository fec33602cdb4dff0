using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras RandomFlip: in training each image is mirrored left-right ("horizontal") and/or upside down
/// ("vertical") with probability ½ per axis; in inference it passes unchanged.</summary>
public sealed record RandomFlip : BaseImagePreprocessing
{
    [OneOf("horizontal", "vertical", "horizontal_and_vertical")] public string Mode { get; init; } = "horizontal_and_vertical";
    public int? Seed { get; init; }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(RandomFlip c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            if (!context.Training) return input;
            var x = input;
            var n = x.shape[0];
            if (c.Mode != "vertical") x = where((rand([n], generator: context.Rng) < 0.5).view(n, 1, 1, 1), x.flip(2), x);
            if (c.Mode != "horizontal") x = where((rand([n], generator: context.Rng) < 0.5).view(n, 1, 1, 1), x.flip(1), x);
            return x;
        }
    }
}
