using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras CenterCrop: the central (height, width) window (starting at ⌊(H − height) / 2⌋), in training and
/// inference; an image smaller than the target on either axis is <c>smart_resize</c>d instead (largest centred window
/// of the target aspect ratio, bilinear).</summary>
public sealed record CenterCrop : BaseImagePreprocessing
{
    [Range(1)] public required int Height { get; init; }
    [Range(1)] public required int Width { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireImage(inputs[0]);
        return [new Shape(Height, Width, inputs[0][2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    internal static Tensor Crop(Tensor x, long height, long width)
    {
        long dh = x.shape[1] - height, dw = x.shape[2] - width;
        return dh >= 0 && dw >= 0
            ? x.narrow(1, dh / 2, height).narrow(2, dw / 2, width)
            : ImageOps.SmartResize(x, height, width, "bilinear");
    }

    private sealed class Module(CenterCrop c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) =>
            Crop(input.is_floating_point() ? input : input.to(ScalarType.Float32), c.Height, c.Width);
    }
}
