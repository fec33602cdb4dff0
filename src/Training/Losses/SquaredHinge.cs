using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras squared_hinge: <c>mean(max(1 − y·ŷ, 0)², axis=−1)</c>; targets that are all 0/1 in a batch become −1/1.</summary>
public sealed record SquaredHinge : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        return MeanRest((1.0 - Hinge.HingeLabels(yTrue) * yPred).clamp_min(0.0).square().mean([-1]));
    }
}
