using TrainingService.Training.Losses;

namespace TrainingService.Training.Metrics;

/// <summary>A loss function used as a metric (Keras's <c>"mse"</c>, <c>"binary_crossentropy"</c> … in <c>metrics</c>):
/// the mean of its per-example values, from the output probabilities (never from logits, as Keras's metrics do).</summary>
public sealed record LossMetric(Loss Loss, string Default) : MetricConfig
{
    public override string DefaultName => Default;
    public override bool HigherIsBetter => false;

    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new MeanMetricWrapper(name, false, (t, p) => Loss.Targets == TargetKind.ClassIndices
            ? Loss.PerExample(MetricTargets.Indices(t, p), p, null)
            : Loss.PerExample(MetricTargets.Dense(t, p), p, null));
}
