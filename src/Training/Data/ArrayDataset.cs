using TorchSharp;
using static TorchSharp.torch;

namespace TrainingService.Training.Data;

/// <summary>
/// Examples held as whole tensors, first dimension = example, in Keras's layout (images N,H,W,C).
/// Inputs stay in their stored dtype (uint8 pixels stay bytes); <see cref="Transform"/> turns a gathered batch
/// into what the model takes. One tensor per model input and per model output, in the model's order.
/// </summary>
public sealed class ArrayDataset : IDisposable
{
    /// <summary>The dataset owns the tensors: disposing it disposes them (a slice's views keep their storage alive).</summary>
    public ArrayDataset(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> targets, IBatchTransform? transform = null)
    {
        if (inputs.Count == 0) throw new ArgumentException("A dataset needs at least one input array.", nameof(inputs));
        Count = inputs[0].shape[0];
        foreach (var t in inputs.Concat(targets))
        {
            if (t.shape[0] != Count)
                throw new ArgumentException($"Every array needs {Count} examples; one has {t.shape[0]}.");
        }
        Inputs = inputs;
        Targets = targets;
        Transform = transform;
    }

    public long Count { get; }
    public IReadOnlyList<Tensor> Inputs { get; }
    public IReadOnlyList<Tensor> Targets { get; }
    public IBatchTransform? Transform { get; }

    /// <summary>Examples [start, end) as views over the same storage.</summary>
    public ArrayDataset Slice(long start, long end) =>
        new(Inputs.Select(t => t.narrow(0, start, end - start)).ToArray(),
            Targets.Select(t => t.narrow(0, start, end - start)).ToArray(), Transform);

    /// <summary>The examples at <paramref name="indices"/> (an int64 tensor), as copies.</summary>
    public ArrayDataset Take(Tensor indices) =>
        new(Inputs.Select(t => t.index_select(0, indices)).ToArray(),
            Targets.Select(t => t.index_select(0, indices)).ToArray(), Transform);

    public void Dispose()
    {
        foreach (var t in Inputs) t.Dispose();
        foreach (var t in Targets) t.Dispose();
    }
}

/// <summary>Turns a gathered batch of raw inputs into model inputs (cast, rescale, augment).
/// <paramref name="training"/> is true only for training batches: augmentation applies there and nowhere else.</summary>
public interface IBatchTransform
{
    Tensor[] Apply(Tensor[] rawInputs, bool training, Generator rng);
}
