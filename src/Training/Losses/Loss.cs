using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>How a loss wants its targets: class indices (int64, shape (N,)), or values shaped like the output
/// (float32; integer class labels are one-hot encoded to the output width by the engine).</summary>
public enum TargetKind { ClassIndices, LikeOutput }

/// <summary>
/// A Keras loss: config keys as Keras's loss classes (<c>from_logits</c>, <c>label_smoothing</c>, <c>delta</c> …).
/// <see cref="PerExample"/> gives one value per example; the engine reduces as Keras's "sum_over_batch_size" does:
/// Σ(weight·loss) / batch size.
/// </summary>
public abstract record Loss
{
    public abstract TargetKind Targets { get; }

    /// <summary>Per-example loss, shape (N,). <paramref name="logits"/> is the pre-activation of a softmax/sigmoid
    /// output (null otherwise); cross-entropies use it for an exact, stable result as Keras's TF backend does.</summary>
    public abstract Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits);
}
