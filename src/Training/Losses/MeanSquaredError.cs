using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras mean_squared_error: <c>mean((y − ŷ)², axis=−1)</c>.</summary>
public sealed record MeanSquaredError : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        return MeanRest((yPred - yTrue).square().mean([-1]));
    }
}
