using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras mean_absolute_percentage_error: <c>100·mean(|(y − ŷ)/max(|y|, 1e-7)|, axis=−1)</c>.</summary>
public sealed record MeanAbsolutePercentageError : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        var diff = ((yTrue - yPred) / yTrue.abs().clamp_min(Epsilon)).abs();
        return MeanRest(diff.mean([-1]) * 100.0);
    }
}
