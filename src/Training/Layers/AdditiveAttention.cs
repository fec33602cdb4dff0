using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras AdditiveAttention (Bahdanau-style): scores <c>Σ scale · tanh(q + k)</c> over the features, with a
/// trained per-feature <c>scale</c> (glorot_uniform, as Keras) when <c>use_scale</c> (the default).</summary>
public sealed record AdditiveAttention : BaseDenseAttention
{
    public bool UseScale { get; init; } = true;

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        (UseScale ? (inputs.Length > 2 ? inputs[2] : inputs[1]).Last : 0, 0);

    internal override void AddWeights(AttentionModule module, Shape[] inputs, BuildContext context)
    {
        if (UseScale)
            module.Add("scale", Initializers.Initializer.Named("glorot_uniform").Create([(inputs.Length > 2 ? inputs[2] : inputs[1]).Last], context.Rng));
    }

    internal override Tensor Scores(Tensor query, Tensor key, AttentionModule module)
    {
        var t = (query.unsqueeze(2) + key.unsqueeze(1)).tanh();
        var scale = module.Weight("scale");
        return (scale is null ? t : t * scale).sum(-1);
    }
}
