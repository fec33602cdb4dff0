using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>A float64 sum kept as a tensor: each batch adds to it without reading it back to the host (a read is a
/// native call and, on an accelerator, a synchronisation); <see cref="Value"/> reads it once, at the end of an epoch.</summary>
internal sealed class RunningSum : IDisposable
{
    private Tensor? _sum;

    /// <summary>Adds the sum of <paramref name="values"/> (computed in float64).</summary>
    public void Add(Tensor values)
    {
        using var sum = values.sum(type: ScalarType.Float64);
        if (_sum is null) _sum = sum.clone().DetachFromDisposeScope();
        else _sum.add_(sum);
    }

    public double Value => _sum?.item<double>() ?? 0;

    public void Reset()
    {
        _sum?.Dispose();
        _sum = null;
    }

    public void Dispose() => Reset();
}
