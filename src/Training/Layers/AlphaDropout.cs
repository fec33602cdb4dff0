using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras AlphaDropout (for SELU networks): in training, dropped inputs are set to SELU's negative saturation
/// <c>α' = −1.7581</c> and the result is affinely rescaled (<c>a·x + b</c>) so that mean and variance are kept.</summary>
public sealed record AlphaDropout : Layer
{
    [Range(0, 1, MaxExclusive = true)] public required double Rate { get; init; }
    public int[]? NoiseShape { get; init; }
    public int? Seed { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Rate);

    private sealed class Module(string name, double rate) : UnaryModule(name)
    {
        private const double Alpha = 1.6732632423543772848170429916717, Scale = 1.0507009873554804934193349852946;

        public override Tensor Forward(Tensor x, ForwardContext context)
        {
            if (!context.Training || rate == 0) return x;
            const double alphaP = -Alpha * Scale;
            using var kept = empty_like(x).uniform_(0, 1, context.Rng).ge(rate).to(x.dtype);
            var a = Math.Pow((1 - rate) * (1 + rate * alphaP * alphaP), -0.5);
            var b = -a * alphaP * rate;
            return (x * kept + alphaP * (1 - kept)) * a + b;
        }
    }
}
