using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>What RandomRotation, RandomZoom and RandomTranslation share: an affine resampling in training only (each
/// image its own random transform), with Keras's <c>fill_mode</c>, <c>interpolation</c> and <c>fill_value</c>.</summary>
public abstract record BaseRandomAffine : BaseImagePreprocessing
{
    [OneOf("reflect", "wrap", "constant", "nearest")] public string FillMode { get; init; } = "reflect";
    [OneOf("bilinear", "nearest")] public string Interpolation { get; init; } = "bilinear";
    public int? Seed { get; init; }
    public double FillValue { get; init; }

    /// <summary>The (N, 6) transforms for a batch of <paramref name="n"/> images of (h, w): output pixel (x, y) reads
    /// input (a0·x + a1·y + a2, b0·x + b1·y + b2).</summary>
    internal abstract Tensor Transforms(long n, long h, long w, Generator rng);

    /// <summary>n values uniform in [lower, upper).</summary>
    protected static Tensor Uniform(long n, double lower, double upper, Generator rng) =>
        rand([n], ScalarType.Float64, generator: rng) * (upper - lower) + lower;

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(BaseRandomAffine c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            if (!context.Training) return input;
            var x = input.is_floating_point() ? input : input.to(ScalarType.Float32);
            var t = c.Transforms(x.shape[0], x.shape[1], x.shape[2], context.Rng);
            return ImageOps.Affine(x, t, c.Interpolation, c.FillMode, c.FillValue);
        }
    }
}
