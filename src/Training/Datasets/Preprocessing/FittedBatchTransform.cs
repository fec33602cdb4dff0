using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// The per-batch half of a <see cref="FittedPreprocessing"/>: integer inputs (word indices) become int64; the rest
/// become float32, are augmented on training batches, rescaled, standardised, and reshaped to the model's input
/// shape. Used both for training batches and for prediction instances, so both see the same transform.
/// </summary>
public sealed class FittedBatchTransform : IBatchTransform
{
    private readonly FittedInput[] _inputs;

    public FittedBatchTransform(IReadOnlyList<FittedInput> inputs) => _inputs = inputs.ToArray();

    public Tensor[] Apply(Tensor[] rawInputs, bool training, Generator rng)
    {
        if (rawInputs.Length != _inputs.Length)
            throw new ArgumentException($"Expected {_inputs.Length} input arrays, got {rawInputs.Length}.", nameof(rawInputs));
        var result = new Tensor[rawInputs.Length];
        using (var scope = NewDisposeScope())
        {
            for (var i = 0; i < rawInputs.Length; i++)
                result[i] = Apply(_inputs[i], rawInputs[i], training, rng).MoveToOuterDisposeScope();
        }
        return result;
    }

    private static Tensor Apply(FittedInput f, Tensor raw, bool training, Generator rng)
    {
        var n = raw.shape[0];
        long[] shape = [n, .. f.Shape.Select(d => (long)d)];
        if (f.IsInteger) return raw.to_type(ScalarType.Int64).reshape(shape);
        var x = raw.to_type(ScalarType.Float32);
        if (training && f.Augmentation is { } a) x = ImageAugmenter.Apply(x, a, rng);
        if (f.Rescale is { } r) x = x * r;
        if (f.Mean is { } mean && f.Std is { } std)
        {
            x = mean.Length == 1
                ? (x - mean[0]) / std[0]
                : (x - tensor(mean)) / tensor(std);
        }
        return x.reshape(shape);
    }
}
