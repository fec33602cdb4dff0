using System.Collections.Concurrent;

namespace TrainingService.Api.Jobs;

/// <summary>Cancellation sources of the runs executing in this process, so a cancel request handled here stops
/// its run at the next batch instead of at the next poll of the runs table.</summary>
public sealed class RunCancellations
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public void Register(Guid runId, CancellationTokenSource source) => _running[runId] = source;

    public void Unregister(Guid runId) => _running.TryRemove(runId, out _);

    public bool TryCancel(Guid runId)
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
