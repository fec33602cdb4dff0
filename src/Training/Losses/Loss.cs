using TrainingService.Training.Engine;
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
    /// <summary>Keras's epsilon (backend.epsilon()), used for clipping probabilities.</summary>
    public const double Epsilon = 1e-7;

    public abstract TargetKind Targets { get; }

    /// <summary>The output activation whose pre-activation values this loss can use as <c>logits</c>
    /// ("softmax" for categorical cross-entropies, "sigmoid" for binary); null when it never uses logits.
    /// The engine must pass logits only when the output's activation is exactly this one.</summary>
    public virtual string? LogitsActivation => null;

    /// <summary>Per-example loss, shape (N,). <paramref name="logits"/> is the pre-activation of a softmax/sigmoid
    /// output (null otherwise); cross-entropies use it for an exact, stable result as Keras's TF backend does.
    /// Losses computed per element (shape (N, …)) are averaged over the non-batch axes, which reduces to Keras's
    /// sum_over_batch_size when examples are weighted equally.</summary>
    public abstract Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits);

    /// <summary>Keras's "sum_over_batch_size": Σ(weight · loss) / number of examples (not / Σweight, unlike torch's
    /// weighted losses). <paramref name="sampleWeight"/> is per example (class weights), or null.</summary>
    public static Tensor Reduce(Tensor perExample, Tensor? sampleWeight) =>
        sampleWeight is null ? perExample.mean() : (perExample * sampleWeight).sum() / perExample.shape[0];

    /// <summary>Problems with targets of this signature for an output of <paramref name="outputShape"/> (per example),
    /// as plain messages; the caller adds the path.</summary>
    public virtual IEnumerable<string> CheckTargets(int[] outputShape, TargetSignature target) =>
        LossChecks.LikeOutput(this, outputShape, target);

    /// <summary>Mean over every axis but the batch axis.</summary>
    protected static Tensor MeanRest(Tensor t) => t.dim() <= 1 ? t : t.flatten(1).mean([1]);

    /// <summary>Keras's squeeze_or_expand_to_same_rank, and targets cast to the prediction's dtype. Class labels for an
    /// output of several units (one per class) are one-hot encoded first, so a loss given the dataset's labels directly
    /// computes what it would from one-hot targets. The same reading as the metrics' (<see cref="Metrics.MetricTargets"/>).</summary>
    protected static Tensor Align(Tensor yTrue, Tensor yPred) => Metrics.MetricTargets.Dense(yTrue, yPred);
}
