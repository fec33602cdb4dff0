using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras hinge: <c>mean(max(1 − y·ŷ, 0), axis=−1)</c>; targets that are all 0/1 in a batch become −1/1.</summary>
public sealed record Hinge : Loss
{
    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        return MeanRest((1.0 - HingeLabels(yTrue) * yPred).clamp_min(0.0).mean([-1]));
    }

    /// <summary>Keras's convert_binary_labels_to_hinge: when every target is 0 or 1, map to −1/1.</summary>
    internal static Tensor HingeLabels(Tensor yTrue)
    {
        using var binary = ((yTrue == 0) | (yTrue == 1)).all();
        return binary.item<bool>() ? yTrue * 2.0 - 1.0 : yTrue;
    }
}
