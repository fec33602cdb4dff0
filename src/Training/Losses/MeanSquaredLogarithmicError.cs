using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras mean_squared_logarithmic_error: <c>mean((log(max(ŷ, ε) + 1) − log(max(y, ε) + 1))², axis=−1)</c>.</summary>
public sealed record MeanSquaredLogarithmicError : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        var first = (yPred.clamp_min(Epsilon) + 1.0).log();
        var second = (yTrue.clamp_min(Epsilon) + 1.0).log();
        return MeanRest((first - second).square().mean([-1]));
    }
}
