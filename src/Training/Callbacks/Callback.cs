using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TrainingService.Training.Callbacks;

/// <summary>A Keras callback at work. Its state (counters, best values, best weights) is saved in checkpoints so that a
/// resumed run decides exactly as an uninterrupted one. A callback may hold tensors (best weights): the fit that
/// created it disposes it when training ends.</summary>
public abstract class Callback : IDisposable
{
    public virtual void OnTrainBegin(TrainingControl control) { }

    /// <summary><paramref name="epoch"/> is 0-based, as in Keras.</summary>
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs, TrainingControl control) { }

    public virtual void OnTrainEnd(TrainingControl control) { }

    public abstract JsonObject SaveState();
    public abstract void LoadState(JsonObject state);

    /// <summary>Tensors the callback holds (best weights), named for the checkpoint.</summary>
    public virtual IEnumerable<(string Name, Tensor Value)> StateTensors() => [];
    public virtual void LoadStateTensors(IReadOnlyDictionary<string, Tensor> tensors) { }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the tensors the callback holds.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>What callbacks may read and change while training runs.</summary>
public sealed class TrainingControl(
    Func<double> getLearningRate,
    Action<double> setLearningRate,
    Func<Dictionary<string, Tensor>> snapshotWeights,
    Action<IReadOnlyDictionary<string, Tensor>> restoreWeights)
{
    public double LearningRate { get => getLearningRate(); set => setLearningRate(value); }
    public bool StopTraining { get; set; }

    /// <summary>The best epoch (1-based) by a monitored quantity, when a callback monitors one.</summary>
    public int? BestEpoch { get; set; }

    /// <summary>A copy of every weight of the model, outside any dispose scope: the caller owns and disposes it.</summary>
    public Dictionary<string, Tensor> SnapshotWeights() => snapshotWeights();

    public void RestoreWeights(IReadOnlyDictionary<string, Tensor> weights) => restoreWeights(weights);
}
