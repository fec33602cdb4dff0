using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>Keras RootMeanSquaredError: <c>√(mean of (ŷ − y)² over every element seen)</c>.</summary>
public sealed record RootMeanSquaredError : MetricConfig
{
    public override string DefaultName => "root_mean_squared_error";
    public override bool HigherIsBetter => false;
    public override Metric Create(string name, int[] outputShape, int[]? targetShape) => new RootMeanSquaredErrorMetric(name);
}

public sealed class RootMeanSquaredErrorMetric(string name) : Metric(name)
{
    private readonly RunningSum _total = new();
    private double _count;

    public override bool HigherIsBetter => false;

    public override void Update(Tensor yTrue, Tensor yPred)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var error = (yPred.detach() - MetricTargets.Dense(yTrue, yPred)).square();
        _total.Add(error);
        _count += error.numel();
    }

    public override double Result() => _count == 0 ? 0 : Math.Sqrt(_total.Value / _count);

    public override void Reset()
    {
        _total.Reset();
        _count = 0;
    }

    protected override void Dispose(bool disposing) => _total.Dispose();
}
