using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras cosine_similarity as a loss: <c>−Σ ŷ/‖ŷ‖ · y/‖y‖</c> over the last axis (norms floored at 1e-6, as l2_normalize with ε = 1e-12).</summary>
public sealed record CosineSimilarity : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        return MeanRest(-(Normalize(yTrue) * Normalize(yPred)).sum(-1));
    }

    private static Tensor Normalize(Tensor x) => x * x.square().sum(-1, keepdim: true).clamp_min(1e-12).rsqrt();
}
