using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras UpSampling2D on (H, W, C): rows and columns repeated <c>size</c> times ("nearest"), or resized
/// bilinearly with half-pixel centres as Keras's image resize does (PyTorch's <c>align_corners=False</c>).</summary>
public sealed record UpSampling2D : Layer
{
    [Tuple(2), Range(1)] public int[] Size { get; init; } = [2, 2];
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    [OneOf("nearest", "bilinear")] public string Interpolation { get; init; } = "nearest";

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3, x.Rank < 3 ? "add Reshape to (H, W, C)" : null);
        return [new Shape(x[0] < 0 ? -1 : x[0] * Size[0], x[1] < 0 ? -1 : x[1] * Size[1], x[2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(UpSampling2D c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            if (c.Interpolation == "nearest")
                return input.repeat_interleave(c.Size[0], dim: 1).repeat_interleave(c.Size[1], dim: 2);
            var x = input.permute(0, 3, 1, 2);
            var y = nn.functional.interpolate(x, size: [x.shape[2] * c.Size[0], x.shape[3] * c.Size[1]],
                mode: InterpolationMode.Bilinear, align_corners: false);
            return y.permute(0, 2, 3, 1);
        }
    }
}
