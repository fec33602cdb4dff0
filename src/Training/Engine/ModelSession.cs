using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>A built model with its optimizer: trains, evaluates, predicts, saves and restores.
/// Not thread-safe for training; <see cref="Predict"/> may be called from several threads once training is over.</summary>
public sealed partial class ModelSession : IDisposable
{
    /// <summary>Builds the model with Keras's initializers, seeded from <c>fit.seed</c>.</summary>
    public static ModelSession Create(TrainingPlan plan) => throw new NotImplementedException("engine in progress");

    /// <summary>Rebuilds the model from its definition and saved weights (<see cref="SaveWeights"/>) for serving.</summary>
    public static ModelSession Restore(TrainingPlan plan, byte[] weights) => throw new NotImplementedException();

    /// <summary>Trains as Keras's fit does. Without <paramref name="validation"/>, <c>fit.validation_split</c>
    /// takes the last fraction of <paramref name="train"/>. <paramref name="resumeFrom"/> is a checkpoint given to
    /// an observer earlier: training continues after its epoch and ends exactly as an uninterrupted run would.</summary>
    public FitResult Fit(ArrayDataset train, ArrayDataset? validation, ITrainingObserver? observer,
        CancellationToken cancellationToken, byte[]? resumeFrom = null) => throw new NotImplementedException();

    /// <summary>Loss and compiled metrics on <paramref name="data"/> (Keras log keys, no val_ prefix).</summary>
    public IReadOnlyDictionary<string, double> Evaluate(ArrayDataset data, int? batchSize = null) => throw new NotImplementedException();

    /// <summary>Model outputs for the inputs of <paramref name="data"/> (targets ignored), one float32 tensor per output.</summary>
    public Tensor[] Predict(ArrayDataset data, int? batchSize = null) => throw new NotImplementedException();

    public byte[] SaveWeights() => throw new NotImplementedException();

    public void Dispose() { }
}
