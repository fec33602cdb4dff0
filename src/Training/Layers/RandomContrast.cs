using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras RandomContrast: in training each image's deviation from its per-channel mean is scaled by a value
/// uniform in 1 − lower … 1 + upper (<c>factor</c> f means f, f as tf.keras reads it; Keras 3 writes the pair), then
/// clipped to <c>value_range</c>; identity in inference.</summary>
public sealed record RandomContrast : BaseImagePreprocessing
{
    public required Factor Factor { get; init; }
    public NumberList ValueRange { get; init; } = new([0, 255]);
    public int? Seed { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        var lower = Factor.Pair ? Factor.Lower : Factor.Upper;
        if (lower < 0 || lower > 1 || Factor.Upper > 1)
            yield return new SpecError($"{path}.factor", "must lie within [0, 1] (as in Keras)");
        if (ValueRange.Items.Count != 2 || ValueRange.Items[0] >= ValueRange.Items[1]) yield return new SpecError($"{path}.value_range", "must be [low, high] with low < high");
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(RandomContrast c) : UnaryModule(c.Name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            if (!context.Training) return input;
            var x = input.is_floating_point() ? input : input.to(ScalarType.Float32);
            var n = x.shape[0];
            var lower = 1 - (c.Factor.Pair ? c.Factor.Lower : c.Factor.Upper);
            var upper = 1 + c.Factor.Upper;
            var factor = (rand([n, 1, 1, 1], generator: context.Rng) * (upper - lower) + lower).to(x.dtype);
            var mean = x.mean([1, 2], keepdim: true);
            return ((x - mean) * factor + mean).clamp(c.ValueRange.Items[0], c.ValueRange.Items[1]);
        }
    }
}
