using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras categorical_hinge: <c>max(max((1 − y)·ŷ) − Σ y·ŷ + 1, 0)</c> over the last axis.</summary>
public sealed record CategoricalHinge : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        var pos = (yTrue * yPred).sum(-1);
        var neg = ((1.0 - yTrue) * yPred).amax([-1]);
        return MeanRest((neg - pos + 1.0).clamp_min(0.0));
    }
}
