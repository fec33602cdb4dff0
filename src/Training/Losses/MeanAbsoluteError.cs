using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras mean_absolute_error: <c>mean(|y − ŷ|, axis=−1)</c>.</summary>
public sealed record MeanAbsoluteError : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        return MeanRest((yPred - yTrue).abs().mean([-1]));
    }
}
