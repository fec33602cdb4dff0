using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras RandomZoom: in training each image is scaled about its centre by 1 + a value uniform in
/// <c>height_factor</c> (and <c>width_factor</c>, or the same value when it is null): positive zooms out, negative in;
/// identity in inference.</summary>
public sealed record RandomZoom : BaseRandomAffine
{
    public required Factor HeightFactor { get; init; }
    public Factor? WidthFactor { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (HeightFactor.Check($"{path}.height_factor", -1, double.MaxValue) is { } e) yield return e;
        if (WidthFactor?.Check($"{path}.width_factor", -1, double.MaxValue) is { } f) yield return f;
    }

    internal override Tensor Transforms(long n, long h, long w, Generator rng)
    {
        var zy = Uniform(n, 1 + HeightFactor.Lower, 1 + HeightFactor.Upper, rng);
        var zx = WidthFactor is null ? zy : Uniform(n, 1 + WidthFactor.Lower, 1 + WidthFactor.Upper, rng);
        var zero = zeros(n, ScalarType.Float64);
        return stack([zx, zero, (w - 1) / 2.0 * (1 - zx), zero, zy, (h - 1) / 2.0 * (1 - zy)], 1);
    }
}
