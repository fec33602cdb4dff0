using static TorchSharp.torch;

namespace TrainingService.Training.Metrics;

/// <summary>
/// A stateful Keras metric over an epoch: <see cref="Update"/> per batch, <see cref="Result"/> at the end.
/// <c>yTrue</c> is the target as the dataset gives it (class indices (N,) or (N,1), or values shaped like the output);
/// each metric reads it the way Keras's does. A metric may keep its running sums as tensors (read once, by
/// <see cref="Result"/>, not once per batch): whoever creates it disposes it.
/// </summary>
public abstract class Metric(string name) : IDisposable
{
    /// <summary>The log key (<c>accuracy</c>, <c>auc</c> …); the engine prefixes <c>val_</c> and output names.</summary>
    public string Name { get; } = name;

    /// <summary>True when larger is better (for EarlyStopping/ReduceLROnPlateau mode "auto").</summary>
    public abstract bool HigherIsBetter { get; }

    public abstract void Update(Tensor yTrue, Tensor yPred);
    public abstract double Result();
    public abstract void Reset();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}
