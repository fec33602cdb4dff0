using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras RandomTranslation: in training each image is shifted by a fraction of its height and width uniform
/// in <c>height_factor</c> and <c>width_factor</c> (positive moves it down and right); identity in inference.</summary>
public sealed record RandomTranslation : BaseRandomAffine
{
    public required Factor HeightFactor { get; init; }
    public required Factor WidthFactor { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (HeightFactor.Check($"{path}.height_factor", -1, 1) is { } e) yield return e;
        if (WidthFactor.Check($"{path}.width_factor", -1, 1) is { } f) yield return f;
    }

    internal override Tensor Transforms(long n, long h, long w, Generator rng)
    {
        var dy = Uniform(n, HeightFactor.Lower, HeightFactor.Upper, rng) * h;
        var dx = Uniform(n, WidthFactor.Lower, WidthFactor.Upper, rng) * w;
        var one = ones(n, ScalarType.Float64);
        var zero = zeros(n, ScalarType.Float64);
        return stack([one, zero, -dx, zero, one, -dy], 1);
    }
}
