using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>The per-example functions behind Keras's accuracy metrics.</summary>
internal static class AccuracyFunctions
{
    /// <summary>Keras binary_accuracy: <c>mean(y == (ŷ &gt; threshold), axis=−1)</c>.</summary>
    public static Tensor Binary(Tensor yTrue, Tensor yPred, double threshold)
    {
        var t = MetricTargets.Dense(yTrue, yPred);
        var predicted = (yPred > threshold).to_type(t.dtype);
        return t.eq(predicted).to_type(ScalarType.Float32).mean([-1]);
    }

    /// <summary>Keras (sparse_)categorical_accuracy: the target class equals the argmax of the output.</summary>
    public static Tensor Categorical(Tensor yTrue, Tensor yPred) =>
        MetricTargets.Indices(yTrue, yPred).eq(yPred.argmax(-1)).to_type(ScalarType.Float32);

    /// <summary>Keras (sparse_)top_k_categorical_accuracy via in_top_k: the target's score is at least the k-th largest.</summary>
    public static Tensor TopK(Tensor yTrue, Tensor yPred, int k)
    {
        var classes = (int)yPred.shape[^1];
        var kk = Math.Min(k, classes);
        var kth = yPred.topk(kk, -1).values.narrow(-1, kk - 1, 1).squeeze(-1);
        var target = yPred.gather(-1, MetricTargets.Indices(yTrue, yPred).unsqueeze(-1)).squeeze(-1);
        return target.ge(kth).to_type(ScalarType.Float32);
    }
}

/// <summary>Keras BinaryAccuracy (<c>threshold = 0.5</c>).</summary>
public sealed record BinaryAccuracy : MetricConfig
{
    public double Threshold { get; init; } = 0.5;
    public override string DefaultName => "binary_accuracy";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new MeanMetricWrapper(name, true, (t, p) => AccuracyFunctions.Binary(t, p, Threshold));
}

/// <summary>Keras CategoricalAccuracy: argmax of one-hot targets (class labels are accepted too).</summary>
public sealed record CategoricalAccuracy : MetricConfig
{
    public override string DefaultName => "categorical_accuracy";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new MeanMetricWrapper(name, true, AccuracyFunctions.Categorical);
}

/// <summary>Keras SparseCategoricalAccuracy: integer class labels against the argmax of the output.</summary>
public sealed record SparseCategoricalAccuracy : MetricConfig
{
    public override string DefaultName => "sparse_categorical_accuracy";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new MeanMetricWrapper(name, true, AccuracyFunctions.Categorical);
}

/// <summary>Keras TopKCategoricalAccuracy (<c>k = 5</c>).</summary>
public sealed record TopKCategoricalAccuracy : MetricConfig
{
    [Range(1)] public int K { get; init; } = 5;
    public override string DefaultName => "top_k_categorical_accuracy";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new MeanMetricWrapper(name, true, (t, p) => AccuracyFunctions.TopK(t, p, K));
}

/// <summary>Keras SparseTopKCategoricalAccuracy (<c>k = 5</c>; <c>from_sorted_ids</c> is not supported).</summary>
public sealed record SparseTopKCategoricalAccuracy : MetricConfig
{
    [Range(1)] public int K { get; init; } = 5;
    public bool FromSortedIds { get; init; }
    public override string DefaultName => "sparse_top_k_categorical_accuracy";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new MeanMetricWrapper(name, true, (t, p) => AccuracyFunctions.TopK(t, p, K));

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (FromSortedIds) yield return new SpecError(ConfigBinder.Join(path, "from_sorted_ids"), "only false is supported (outputs are scores)");
    }
}

/// <summary>Keras's <c>"accuracy"</c>/<c>"acc"</c>, resolved by shapes as <c>compile_utils.get_metric</c> does: an output
/// of last dimension 1 → BinaryAccuracy; targets of lower rank than the output, or of last dimension 1 → sparse
/// categorical; otherwise categorical. The metric keeps the user's name.</summary>
public sealed record ResolvedAccuracy : MetricConfig
{
    public override string DefaultName => "accuracy";
    public override bool HigherIsBetter => true;

    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        Resolve(outputShape, targetShape).Create(name, outputShape, targetShape);

    public static MetricConfig Resolve(int[] outputShape, int[]? targetShape)
    {
        var outputLast = outputShape.Length == 0 ? 1 : outputShape[^1];
        if (outputLast == 1) return new BinaryAccuracy();
        if (targetShape is not null && (targetShape.Length < outputShape.Length || targetShape.Length > 0 && targetShape[^1] == 1))
            return new SparseCategoricalAccuracy();
        return new CategoricalAccuracy();
    }
}
