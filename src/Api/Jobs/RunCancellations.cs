using System.Collections.Concurrent;

namespace TrainingService.Api.Jobs;

/// <summary>Cancellation sources of the runs executing in this process, so a cancel or delete handled on any node
/// (told here through <see cref="IClusterSignals"/>) stops its run at the next batch instead of at the executor's
/// next poll of the runs table. The request itself is always written to the table first: that stays the truth.</summary>
public sealed class RunCancellations
{
    private const string Topic = "cancel";
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();
    private readonly IClusterSignals _cluster;

    public RunCancellations(IClusterSignals cluster)
    {
        _cluster = cluster;
        cluster.Subscribe(Topic, id => CancelHere(id));
    }

    public void Register(Guid runId, CancellationTokenSource source) => _running[runId] = source;

    public void Unregister(Guid runId) => _running.TryRemove(runId, out _);

    /// <summary>Stops the run wherever it trains; true when it trains in this process.</summary>
    public bool TryCancel(Guid runId)
    {
        _cluster.Publish(Topic, runId);
        return CancelHere(runId);
    }

    private bool CancelHere(Guid runId)
    {
        if (!_running.TryGetValue(runId, out var source)) return false;
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        return true;
    }
}
