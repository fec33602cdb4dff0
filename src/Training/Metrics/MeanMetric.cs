using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>Keras Mean: the weighted mean of every value given. The engine tracks <c>loss</c> with it, adding each
/// batch's loss weighted by the batch size, as Keras's loss tracker does.</summary>
public sealed class MeanMetric(string name, bool higherIsBetter = false) : Metric(name)
{
    private double _total, _count;

    public override bool HigherIsBetter { get; } = higherIsBetter;

    public void Add(double value, double weight = 1)
    {
        _total += value * weight;
        _count += weight;
    }

    /// <summary>Adds every element of <paramref name="yPred"/> (Keras's <c>Mean.update_state(values)</c>).</summary>
    public override void Update(Tensor yTrue, Tensor yPred)
    {
        using var scope = NewDisposeScope();
        _total += yPred.detach().to_type(ScalarType.Float64).sum().item<double>();
        _count += yPred.numel();
    }

    public override double Result() => _count == 0 ? 0 : _total / _count;

    public override void Reset() => (_total, _count) = (0, 0);
}
