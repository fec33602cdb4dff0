using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras ReLU: <c>max_value</c> for x ≥ max_value, <c>x</c> for threshold ≤ x &lt; max_value, and
/// <c>negative_slope · (x − threshold)</c> below the threshold.</summary>
public sealed record ReLU : Layer
{
    [Range(0)] public double? MaxValue { get; init; }
    [Range(0)] public double NegativeSlope { get; init; }
    public double Threshold { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(ReLU c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context)
        {
            var below = c.NegativeSlope == 0 ? zeros_like(x) : (x - c.Threshold) * c.NegativeSlope;
            var y = where(x >= c.Threshold, x, below);
            return c.MaxValue is { } max ? y.clamp_max(max) : y;
        }
    }
}
