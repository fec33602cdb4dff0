using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>Reads a target batch "as the dataset gives it" (class indices (N,) or (N, 1), or values shaped like the
/// output) in the form a metric needs.</summary>
internal static class MetricTargets
{
    /// <summary>True when <paramref name="yTrue"/> holds one class label per position of a multi-unit output.</summary>
    public static bool AreLabels(Tensor yTrue, Tensor yPred) =>
        yPred.shape[^1] > 1 && (yTrue.dim() == yPred.dim() - 1 || yTrue.dim() == yPred.dim() && yTrue.shape[^1] == 1);

    /// <summary>Class indices (int64, one per position): labels as given, or the argmax of one-hot/soft targets.</summary>
    public static Tensor Indices(Tensor yTrue, Tensor yPred)
    {
        if (AreLabels(yTrue, yPred))
        {
            if (yTrue.dim() == yPred.dim()) yTrue = yTrue.squeeze(-1);
            return yTrue.dtype == ScalarType.Int64 ? yTrue : yTrue.to_type(ScalarType.Int64);
        }
        if (yPred.shape[^1] == 1)
        {
            if (yTrue.dim() == yPred.dim()) yTrue = yTrue.squeeze(-1);
            return yTrue.to_type(ScalarType.Int64);
        }
        return yTrue.argmax(-1);
    }

    /// <summary>Float targets shaped like the output: labels one-hot encoded to the output width, a missing trailing 1 added.</summary>
    public static Tensor Dense(Tensor yTrue, Tensor yPred)
    {
        if (AreLabels(yTrue, yPred))
        {
            var labels = yTrue.dim() == yPred.dim() ? yTrue.squeeze(-1) : yTrue;
            return nn.functional.one_hot(labels.to_type(ScalarType.Int64), yPred.shape[^1]).to_type(yPred.dtype);
        }
        if (yTrue.dtype != yPred.dtype) yTrue = yTrue.to_type(yPred.dtype);
        if (yTrue.dim() == yPred.dim() - 1 && yPred.shape[^1] == 1) return yTrue.unsqueeze(-1);
        if (yTrue.dim() == yPred.dim() + 1 && yTrue.shape[^1] == 1) return yTrue.squeeze(-1);
        return yTrue;
    }
}
