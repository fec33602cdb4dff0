using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras RandomCrop: in training, a (height, width) window at a random offset, one offset per batch as Keras draws it
/// (an image not larger than the target on both axes takes the centred window of the target aspect ratio, resized).
/// In inference the centred window of the target aspect ratio, resized (tf.keras's behaviour, and the shape Keras 3
/// declares; Keras 3.x at head passes the image through unchanged, which only agrees when the sizes already match).
/// </summary>
public sealed record RandomCrop : BaseImagePreprocessing
{
    [Range(1)] public required int Height { get; init; }
    [Range(1)] public required int Width { get; init; }
    public int? Seed { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireImage(inputs[0]);
        return [new Shape(Height, Width, inputs[0][2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(RandomCrop c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.is_floating_point() ? input : input.to(ScalarType.Float32);
            long h = x.shape[1], w = x.shape[2];
            if (!context.Training || h <= c.Height || w <= c.Width) return ImageOps.SmartResize(x, c.Height, c.Width, "bilinear");
            var top = randint(0, h - c.Height + 1, [1], generator: context.Rng).item<long>();
            var left = randint(0, w - c.Width + 1, [1], generator: context.Rng).item<long>();
            return x.narrow(1, top, c.Height).narrow(2, left, c.Width);
        }
    }
}
