using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras poisson: <c>mean(ŷ − y·log(ŷ + 1e-7), axis=−1)</c>.</summary>
public sealed record Poisson : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        return MeanRest((yPred - yTrue * (yPred + Epsilon).log()).mean([-1]));
    }
}
