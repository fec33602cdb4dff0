using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras categorical_crossentropy: <c>−Σ y·log p</c> over the last axis. From probabilities it normalises
/// (<c>p /= Σp</c>) and clips to [1e-7, 1−1e-7] as Keras's torch backend does, unless the output's softmax logits are
/// at hand, where it uses log_softmax exactly (as Keras's TF backend does). <c>label_smoothing</c> mixes targets
/// with the uniform distribution: <c>y·(1−s) + s/classes</c>.</summary>
public sealed record CategoricalCrossentropy : Loss
{
    public bool FromLogits { get; init; }
    [Range(0, 1)] public double LabelSmoothing { get; init; }

    public override TargetKind Targets => TargetKind.LikeOutput;
    public override string? LogitsActivation => "softmax";

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        if (LabelSmoothing > 0) yTrue = yTrue * (1 - LabelSmoothing) + LabelSmoothing / yTrue.shape[^1];
        return MeanRest(-(yTrue * LogProbabilities(yPred, FromLogits ? yPred : logits)).sum(-1));
    }

    internal static Tensor LogProbabilities(Tensor yPred, Tensor? logits)
    {
        if (logits is not null) return logits.log_softmax(-1);
        var p = yPred / yPred.sum(-1, keepdim: true);
        return p.clamp(Epsilon, 1 - Epsilon).log();
    }
}
