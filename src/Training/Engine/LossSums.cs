using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>An epoch's running loss sums (the total, and each output's when there are several), weighted by batch
/// length and kept as float64 tensors: a batch adds to them without reading anything back to the host, and the
/// epoch reads them once (<see cref="Means"/>). Call <see cref="Add"/> under <c>no_grad</c>.</summary>
internal sealed class LossSums(int outputs) : IDisposable
{
    private readonly Tensor _total = zeros(1, dtype: ScalarType.Float64).DetachFromDisposeScope();
    private readonly Tensor[] _perOutput = Enumerable.Range(0, outputs > 1 ? outputs : 0).Select(_ => zeros(1, dtype: ScalarType.Float64).DetachFromDisposeScope()).ToArray();

    public void Add(Tensor total, Tensor[] perOutput, long length)
    {
        _total.add_(total, length);
        for (var k = 0; k < perOutput.Length; k++) _perOutput[k].add_(perOutput[k], length);
    }

    public (double Total, double[] PerOutput) Means(long count) =>
        (_total.item<double>() / count, _perOutput.Select(s => s.item<double>() / count).ToArray());

    public void Dispose()
    {
        _total.Dispose();
        foreach (var t in _perOutput) t.Dispose();
    }
}
