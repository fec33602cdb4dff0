namespace TrainingService.Training.Engine;

/// <summary>Receives each epoch as it ends. <paramref name="checkpoint"/> serialises the full training state
/// (weights, optimizer, epoch, RNG, callback state) only when called, so observers that do not persist pay nothing.</summary>
public interface ITrainingObserver
{
    void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint);
}
