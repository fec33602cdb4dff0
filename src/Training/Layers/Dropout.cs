using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Dropout: zeroes a fraction <c>rate</c> of inputs during training and scales the rest by 1/(1-rate).
/// <c>noise_shape</c> (1 = shared along that axis) is honoured. Uses the run's generator, so runs are repeatable.</summary>
public sealed record Dropout : Layer
{
    [Range(0, 1, MaxExclusive = true)] public required double Rate { get; init; }
    public int[]? NoiseShape { get; init; }
    public int? Seed { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        if (NoiseShape is not null && NoiseShape.Length != inputs[0].Rank + 1 && NoiseShape.Length != inputs[0].Rank)
            throw Expects($"noise_shape of rank {inputs[0].Rank + 1} (with the batch axis)", new Shape(NoiseShape));
        return [inputs[0]];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new DropoutModule(Name, Rate, NoiseShape);

    internal static Tensor Apply(Tensor x, double rate, ForwardContext context, long[]? maskShape = null)
    {
        if (!context.Training || rate <= 0) return x;
        using var keep = empty(maskShape ?? x.shape).bernoulli_(1 - rate, context.Rng);
        return x * keep / (1 - rate);
    }

    private sealed class DropoutModule(string name, double rate, int[]? noiseShape) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            long[]? maskShape = null;
            if (noiseShape is not null)
            {
                var dims = noiseShape.Length == input.dim() ? noiseShape : noiseShape[1..].Prepend(-1).ToArray();
                maskShape = dims.Select((d, i) => i == 0 || d < 0 ? input.shape[i] : d).ToArray();
            }
            return Apply(input, rate, context, maskShape);
        }
    }
}
