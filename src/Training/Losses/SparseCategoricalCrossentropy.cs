using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras sparse_categorical_crossentropy: categorical cross-entropy against integer class labels
/// (shape (N,) or (N, 1)), computed as the categorical one is (clipped probabilities, or log_softmax of logits).</summary>
public sealed record SparseCategoricalCrossentropy : Loss
{
    public bool FromLogits { get; init; }

    public override TargetKind Targets => TargetKind.ClassIndices;
    public override string? LogitsActivation => "softmax";

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        if (yTrue.dim() == yPred.dim() && yTrue.shape[^1] == 1) yTrue = yTrue.squeeze(-1);
        if (yTrue.dtype != ScalarType.Int64) yTrue = yTrue.to_type(ScalarType.Int64);
        var logProb = CategoricalCrossentropy.LogProbabilities(yPred, FromLogits ? yPred : logits);
        return MeanRest(-logProb.gather(-1, yTrue.unsqueeze(-1)).squeeze(-1));
    }

    public override IEnumerable<string> CheckTargets(int[] outputShape, TargetSignature target)
    {
        if (!target.IsInteger)
        {
            var hint = LossChecks.SameShape(outputShape, target.Shape) && outputShape[^1] > 1
                ? "; these look one-hot: use categorical_crossentropy" : "";
            yield return $"sparse_categorical_crossentropy expects integer class labels, got float targets {LossChecks.Shape(target.Shape)}{hint}";
            yield break;
        }
        if (!LossChecks.IsLabels(outputShape, target.Shape))
        {
            yield return $"sparse_categorical_crossentropy expects one class label per example (shape {LossChecks.Shape(outputShape[..^1])}) " +
                $"for an output {LossChecks.Shape(outputShape)}, got {LossChecks.Shape(target.Shape)}";
            yield break;
        }
        if (outputShape[^1] < 2)
            yield return $"sparse_categorical_crossentropy needs an output with one unit per class, got {outputShape[^1]} unit; " +
                "for two classes with a sigmoid output use binary_crossentropy";
        else if (target.Classes is { } c && c > outputShape[^1])
            yield return $"targets have {c} classes but the output has {outputShape[^1]} units";
    }
}
