using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>Keras AUC: confusion counts at <c>num_thresholds = 200</c> thresholds (<c>i/(n−1)</c> for the inner ones,
/// plus −1e-7 and 1 + 1e-7), ROC or PR curve, summed by <c>interpolation</c> (trapezoids; PR uses Davis &amp; Goadrich's
/// interpolation as Keras does), <c>minoring</c> or <c>majoring</c>. Labels are flattened into one binary problem
/// unless <c>multi_label</c>, which averages the per-label AUCs.</summary>
public sealed record AUC : MetricConfig
{
    [Range(2)] public int NumThresholds { get; init; } = 200;
    [OneOf("ROC", "PR")] public string Curve { get; init; } = "ROC";
    [OneOf("interpolation", "minoring", "majoring")] public string SummationMethod { get; init; } = "interpolation";
    public bool MultiLabel { get; init; }
    [Range(1)] public int? NumLabels { get; init; }
    public bool FromLogits { get; init; }
    public NumberList? Thresholds { get; init; }
    /// <summary>Keras writes <c>label_weights: null</c>; weighting labels is not supported.</summary>
    public NumberList? LabelWeights { get; init; }

    public override string DefaultName => "auc";
    public override bool HigherIsBetter => true;

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (LabelWeights is not null) yield return new SpecError(ConfigBinder.Join(path, "label_weights"), "is not supported; leave it null");
        if (Thresholds is { } t && t.Items.Any(x => x is < 0 or > 1))
            yield return new SpecError(ConfigBinder.Join(path, "thresholds"), "thresholds must lie in [0, 1]");
    }

    public override Metric Create(string name, int[] outputShape, int[]? targetShape)
    {
        var inner = Thresholds is { } given
            ? given.Items.Order().ToArray()
            : Enumerable.Range(0, NumThresholds - 2).Select(i => (i + 1) * 1.0 / (NumThresholds - 1)).ToArray();
        var thresholds = new[] { 0.0 - 1e-7 }.Concat(inner).Append(1.0 + 1e-7).ToArray();
        return new AucMetric(name, thresholds, Curve == "PR", SummationMethod, MultiLabel, FromLogits);
    }
}

/// <summary>The running state of <see cref="AUC"/>: true/false positives/negatives per threshold (and per label).</summary>
public sealed class AucMetric : Metric
{
    private readonly double[] _thresholds;
    private readonly bool _pr, _multiLabel, _fromLogits;
    private readonly string _summation;
    private double[,]? _tp, _fp, _tn, _fn; // [threshold, label]

    public AucMetric(string name, double[] thresholds, bool pr, string summation, bool multiLabel, bool fromLogits) : base(name)
    {
        _thresholds = thresholds;
        _pr = pr;
        _summation = summation;
        _multiLabel = multiLabel;
        _fromLogits = fromLogits;
    }

    public override bool HigherIsBetter => true;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var p = yPred.detach();
        if (_fromLogits) p = p.sigmoid();
        var t = MetricTargets.Dense(yTrue, p);
        var labels = _multiLabel ? (int)p.shape[^1] : 1;
        p = p.reshape(-1, labels).to_type(ScalarType.Float32);
        var positive = t.reshape(-1, labels).ne(0);
        var negative = positive.logical_not();
        var n = _thresholds.Length;
        if (_tp is null || _fp is null || _tn is null || _fn is null)
            (_tp, _fp, _tn, _fn) = (new double[n, labels], new double[n, labels], new double[n, labels], new double[n, labels]);
        // Thresholds are compared in float32 as Keras casts them to the predictions' dtype.
        var thresholds = tensor(_thresholds.Select(x => (float)x).ToArray()).reshape(n, 1, 1);
        const long chunk = 1 << 15;
        for (long start = 0; start < p.shape[0]; start += chunk)
        {
            var len = Math.Min(chunk, p.shape[0] - start);
            var above = p.narrow(0, start, len).unsqueeze(0) > thresholds; // (n, len, labels)
            var pos = positive.narrow(0, start, len).unsqueeze(0);
            var neg = negative.narrow(0, start, len).unsqueeze(0);
            Accumulate(_tp, (above & pos).sum([1]));
            Accumulate(_fp, (above & neg).sum([1]));
            Accumulate(_fn, (above.logical_not() & pos).sum([1]));
            Accumulate(_tn, (above.logical_not() & neg).sum([1]));
        }
    }

    private static void Accumulate(double[,] into, Tensor counts)
    {
        var values = counts.to_type(ScalarType.Float64).data<double>().ToArray();
        var labels = into.GetLength(1);
        for (var i = 0; i < values.Length; i++) into[i / labels, i % labels] += values[i];
    }

    public override double Result()
    {
        if (_tp is null) return 0;
        var labels = _tp.GetLength(1);
        var total = 0.0;
        for (var l = 0; l < labels; l++) total += _pr && _summation == "interpolation" ? InterpolatePr(l) : Riemann(l);
        return total / labels;
    }

    private static double Div(double a, double b) => b == 0 ? 0 : a / b;

    private double Riemann(int l)
    {
        var n = _thresholds.Length;
        var x = new double[n];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var recall = Div(_tp![i, l], _tp[i, l] + _fn![i, l]);
            if (_pr) (x[i], y[i]) = (recall, Div(_tp[i, l], _tp[i, l] + _fp![i, l]));
            else (x[i], y[i]) = (Div(_fp![i, l], _fp[i, l] + _tn![i, l]), recall);
        }
        var sum = 0.0;
        for (var i = 0; i < n - 1; i++)
        {
            var height = _summation switch
            {
                "interpolation" => (y[i] + y[i + 1]) / 2,
                "minoring" => Math.Min(y[i], y[i + 1]),
                _ => Math.Max(y[i], y[i + 1]),
            };
            sum += (x[i] - x[i + 1]) * height;
        }
        return sum;
    }

    // Keras's interpolate_pr_auc (Davis & Goadrich 2006).
    private double InterpolatePr(int l)
    {
        var n = _thresholds.Length;
        var sum = 0.0;
        for (var i = 0; i < n - 1; i++)
        {
            var dtp = _tp![i, l] - _tp[i + 1, l];
            var p0 = _tp[i, l] + _fp![i, l];
            var p1 = _tp[i + 1, l] + _fp[i + 1, l];
            var dp = p0 - p1;
            var slope = Div(dtp, Math.Max(dp, 0));
            var intercept = _tp[i + 1, l] - slope * p1;
            var ratio = p0 > 0 && p1 > 0 ? Div(p0, Math.Max(p1, 0)) : 1.0;
            sum += Div(slope * (dtp + intercept * Math.Log(ratio)), Math.Max(_tp[i + 1, l] + _fn![i + 1, l], 0));
        }
        return sum;
    }

    public override void Reset() => (_tp, _fp, _tn, _fn) = (null, null, null, null);
}
