namespace TrainingService.Api.Jobs;

/// <summary>
/// Tells the other nodes of a fleet that something happened to a run, so that what one node does reaches the
/// others at once: a new epoch or status wakes their event streams (<see cref="RunEvents"/>), a cancel or delete
/// stops the run where it trains (<see cref="RunCancellations"/>), a deleted run leaves their prediction caches
/// (<see cref="Models.ModelCache"/>). A signal carries only a topic and an id: receivers re-read the database, which
/// stays the truth, and each receiver also polls it, so a lost signal delays but never falsifies.
/// The publisher handles its own node itself; <see cref="Publish"/> reaches the others.
/// </summary>
public interface IClusterSignals
{
    /// <summary>Sends <paramref name="topic"/> for <paramref name="id"/> to every other node; never blocks or throws.</summary>
    void Publish(string topic, Guid id);

    /// <summary>Calls <paramref name="onSignal"/> for each signal of the topic from another node, and
    /// <paramref name="onMissedSignals"/> after a broken connection was restored (signals sent meanwhile are lost).</summary>
    void Subscribe(string topic, Action<Guid> onSignal, Action? onMissedSignals = null);
}

/// <summary>One node (SQLite): there is no one else to tell.</summary>
public sealed class LocalSignals : IClusterSignals
{
    public void Publish(string topic, Guid id)
    {
    }

    public void Subscribe(string topic, Action<Guid> onSignal, Action? onMissedSignals = null)
    {
    }
}
