using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>Keras MeanMetricWrapper: a function giving one value per example (or per element), averaged over every
/// value seen since the last reset. Sums are kept in float64 (Keras keeps float32 variables; the difference is rounding).</summary>
public sealed class MeanMetricWrapper(string name, bool higherIsBetter, Func<Tensor, Tensor, Tensor> fn) : Metric(name)
{
    private readonly RunningSum _total = new();
    private double _count;

    public override bool HigherIsBetter { get; } = higherIsBetter;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var values = fn(yTrue, yPred.detach());
        _total.Add(values);
        _count += values.numel();
    }

    public override double Result() => _count == 0 ? 0 : _total.Value / _count;

    public override void Reset()
    {
        _total.Reset();
        _count = 0;
    }

    protected override void Dispose(bool disposing) => _total.Dispose();
}
