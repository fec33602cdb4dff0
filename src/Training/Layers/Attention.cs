using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Attention (Luong-style): scores <c>q·kᵀ</c> ("dot") or <c>Σ tanh(q + k)</c> ("concat"), times a
/// trained scalar <c>scale</c> when <c>use_scale</c> (initialised to 1); "concat" also has a trained scalar
/// <c>concat_score_weight</c> (initialised to 1).</summary>
public sealed record Attention : BaseDenseAttention
{
    public bool UseScale { get; init; }
    [OneOf("dot", "concat")] public string ScoreMode { get; init; } = "dot";

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((UseScale ? 1 : 0) + (ScoreMode == "concat" ? 1 : 0), 0);

    internal override void AddWeights(AttentionModule module, Shape[] inputs, BuildContext context)
    {
        if (UseScale) module.Add("scale", ones(1));
        if (ScoreMode == "concat") module.Add("concat_score_weight", ones(1));
    }

    internal override Tensor Scores(Tensor query, Tensor key, AttentionModule module)
    {
        var scale = module.Weight("scale");
        if (ScoreMode == "dot")
        {
            var scores = query.matmul(key.transpose(1, 2));
            return scale is null ? scores : scores * scale;
        }
        var sum = query.unsqueeze(2) + key.unsqueeze(1);
        if (scale is not null) sum = sum * scale;
        return module.Weight("concat_score_weight")! * sum.tanh().sum(-1);
    }
}
