using System.Collections.Concurrent;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Wakes event-stream readers when something happened to a run, on this node and (through
/// <see cref="IClusterSignals"/>) on every other. It carries no data: readers re-read the database, which keeps
/// the stream correct if a signal is lost (they then notice at their polling interval instead of at once).
/// </summary>
public sealed class RunEvents
{
    private const string Topic = "changed";
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _signals = new();
    private readonly IClusterSignals _cluster;

    public RunEvents(IClusterSignals cluster)
    {
        _cluster = cluster;
        cluster.Subscribe(Topic, Wake);
    }

    public void Notify(Guid runId)
    {
        Wake(runId);
        _cluster.Publish(Topic, runId);
    }

    private void Wake(Guid runId)
    {
        if (_signals.TryRemove(runId, out var tcs)) tcs.TrySetResult();
    }

    /// <summary>Completes when <see cref="Notify"/> is called for the run, or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(Guid runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tcs = _signals.GetOrAdd(runId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await tcs.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
