using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras RandomRotation: in training each image is turned about its centre by an angle uniform in
/// <c>factor · 360°</c> (a number f means −f … f; positive turns counter-clockwise); identity in inference.</summary>
public sealed record RandomRotation : BaseRandomAffine
{
    public required Factor Factor { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Factor.Check($"{path}.factor", -1, 1) is { } e) yield return e;
    }

    internal override Tensor Transforms(long n, long h, long w, Generator rng)
    {
        var angle = Uniform(n, Factor.Lower * 2 * Math.PI, Factor.Upper * 2 * Math.PI, rng);
        double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);
        var cos = angle.cos();
        var sin = angle.sin();
        // Keras's _compute_affine_matrix with scale 1, no shear or translation.
        return stack([cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos], 1);
    }
}
