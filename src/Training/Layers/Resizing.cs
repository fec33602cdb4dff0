using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Resizing: images resized to (height, width) in training and inference alike, with TensorFlow's
/// half-pixel-centre "bilinear" or "nearest"; <c>crop_to_aspect_ratio</c> first cuts the largest centred window of
/// the target aspect ratio. Padding to the aspect ratio, antialiasing and the bicubic/area/lanczos kernels are refused.</summary>
public sealed record Resizing : BaseImagePreprocessing
{
    [Range(1)] public required int Height { get; init; }
    [Range(1)] public required int Width { get; init; }
    [OneOf("bilinear", "nearest")] public string Interpolation { get; init; } = "bilinear";
    public bool CropToAspectRatio { get; init; }
    public bool PadToAspectRatio { get; init; }
    [OneOf("constant")] public string FillMode { get; init; } = "constant";
    public double FillValue { get; init; }
    public bool Antialias { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (PadToAspectRatio) yield return new SpecError($"{path}.pad_to_aspect_ratio", "true is not supported; use crop_to_aspect_ratio or plain resizing");
        if (Antialias) yield return new SpecError($"{path}.antialias", "true is not supported (TensorFlow's antialiased kernels have no torch equivalent here)");
        if (PadToAspectRatio && CropToAspectRatio) yield return new SpecError($"{path}.crop_to_aspect_ratio", "cannot be combined with pad_to_aspect_ratio (as in Keras)");
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireImage(inputs[0]);
        return [new Shape(Height, Width, inputs[0][2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(Resizing c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.is_floating_point() ? input : input.to(ScalarType.Float32);
            return c.CropToAspectRatio
                ? ImageOps.SmartResize(x, c.Height, c.Width, c.Interpolation)
                : ImageOps.Resize(x, c.Height, c.Width, c.Interpolation);
        }
    }
}
