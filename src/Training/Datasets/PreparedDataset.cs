using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Engine;

namespace TrainingService.Training.Datasets;

/// <summary>A run's data: train and test splits ready for the engine (raw tensors + the batch transform), the fitted
/// preprocessing to store with the model, and the signature to check against the model.</summary>
public sealed class PreparedDataset(ArrayDataset train, ArrayDataset test, FittedPreprocessing preprocessing) : IDisposable
{
    public ArrayDataset Train { get; } = train;
    public ArrayDataset Test { get; } = test;
    public FittedPreprocessing Preprocessing { get; } = preprocessing;
    public DataSignature Signature => Preprocessing.Signature;

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
