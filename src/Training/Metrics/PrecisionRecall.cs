using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>Keras Precision: <c>tp / (tp + fp)</c> over every element seen (0 when nothing is predicted positive).
/// A prediction is positive when <c>ŷ &gt; thresholds</c> (0.5; with <c>top_k</c>, only the k highest of an example
/// count); a target is positive when non-zero; <c>class_id</c> restricts to one output unit.</summary>
public sealed record Precision : MetricConfig
{
    /// <summary>One threshold (Keras also takes a list and reports one value per threshold; not supported).</summary>
    [Range(0, 1)] public double? Thresholds { get; init; }
    [Range(1)] public int? TopK { get; init; }
    [Range(0)] public int? ClassId { get; init; }

    public override string DefaultName => "precision";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new ConfusionMetric(name, precision: true, Thresholds, TopK, ClassId);
}

/// <summary>Keras Recall: <c>tp / (tp + fn)</c>, positives read as in <see cref="Precision"/>.</summary>
public sealed record Recall : MetricConfig
{
    [Range(0, 1)] public double? Thresholds { get; init; }
    [Range(1)] public int? TopK { get; init; }
    [Range(0)] public int? ClassId { get; init; }

    public override string DefaultName => "recall";
    public override bool HigherIsBetter => true;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) =>
        new ConfusionMetric(name, precision: false, Thresholds, TopK, ClassId);
}

/// <summary>Counts of true positives, false positives and false negatives at one threshold (Keras's
/// update_confusion_matrix_variables), giving precision or recall.</summary>
public sealed class ConfusionMetric(string name, bool precision, double? threshold, int? topK, int? classId) : Metric(name)
{
    /// <summary>Keras's NEG_INF for predictions outside the top k.</summary>
    private const double NegInf = -1e10;
    private readonly double _threshold = threshold ?? (topK is null ? 0.5 : NegInf);
    private double _tp, _fp, _fn;

    public override bool HigherIsBetter => true;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var t = MetricTargets.Dense(yTrue, yPred).ne(0);
        var p = yPred.detach();
        if (topK is { } k && p.shape[^1] > k)
        {
            var mask = zeros_like(p).scatter_(-1, p.topk(k, -1).indexes, ones_like(p));
            p = p * mask + NegInf * (1 - mask);
        }
        if (classId is { } c)
        {
            t = t.select(-1, c);
            p = p.select(-1, c);
        }
        var positive = p > _threshold;
        _tp += (positive & t).sum().item<long>();
        _fp += (positive & t.logical_not()).sum().item<long>();
        _fn += (positive.logical_not() & t).sum().item<long>();
    }

    public override double Result()
    {
        var denominator = precision ? _tp + _fp : _tp + _fn;
        return denominator == 0 ? 0 : _tp / denominator;
    }

    public override void Reset() => (_tp, _fp, _fn) = (0, 0, 0);
}
