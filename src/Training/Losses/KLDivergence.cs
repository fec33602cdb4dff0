using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras kl_divergence: <c>Σ y·log(y/ŷ)</c> over the last axis, both clipped to [1e-7, 1].</summary>
public sealed record KLDivergence : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        var t = yTrue.clamp(Epsilon, 1.0);
        var p = yPred.clamp(Epsilon, 1.0);
        return MeanRest((t * (t / p).log()).sum(-1));
    }
}
