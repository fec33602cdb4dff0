using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras log_cosh: <c>mean(x + softplus(−2x) − log 2, axis=−1)</c> with <c>x = ŷ − y</c> (log cosh x, computed stably).</summary>
public sealed record LogCosh : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        var x = yPred - yTrue;
        return MeanRest((x + nn.functional.softplus(x * -2.0) - Math.Log(2.0)).mean([-1]));
    }
}
