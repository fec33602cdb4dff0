using TrainingService.Training.Engine;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras binary_crossentropy: element-wise <c>−(y·log p + (1−y)·log(1−p))</c> averaged over the last axis.
/// From probabilities it clips p to [1e-7, 1−1e-7] (Keras's torch backend); from logits (given, or the sigmoid
/// output's pre-activation) it uses the stable with-logits form. <c>label_smoothing</c>: <c>y·(1−s) + s/2</c>.</summary>
public sealed record BinaryCrossentropy : Loss
{
    public bool FromLogits { get; init; }
    [Range(0, 1)] public double LabelSmoothing { get; init; }

    public override TargetKind Targets => TargetKind.LikeOutput;
    public override string? LogitsActivation => "sigmoid";

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        if (LabelSmoothing > 0) yTrue = yTrue * (1 - LabelSmoothing) + 0.5 * LabelSmoothing;
        var z = FromLogits ? yPred : logits;
        var elementwise = z is not null
            ? nn.functional.binary_cross_entropy_with_logits(z, yTrue, reduction: nn.Reduction.None)
            : nn.functional.binary_cross_entropy(yPred.clamp(Epsilon, 1 - Epsilon), yTrue, reduction: nn.Reduction.None);
        return MeanRest(elementwise.mean([-1]));
    }

    public override IEnumerable<string> CheckTargets(int[] outputShape, TargetSignature target)
    {
        if (outputShape[^1] > 1 && target.IsInteger && LossChecks.IsLabels(outputShape, target.Shape))
        {
            yield return $"binary_crossentropy expects one sigmoid unit per label; the output has {outputShape[^1]} units and the " +
                "targets are class labels: use sparse_categorical_crossentropy with a softmax output, or an output of 1 unit";
            yield break;
        }
        foreach (var m in LossChecks.LikeOutput(this, outputShape, target)) yield return m;
        if (target.Classes is > 2 && outputShape[^1] == 1)
            yield return $"binary_crossentropy needs targets 0 or 1, but the targets have {target.Classes} classes";
    }
}
