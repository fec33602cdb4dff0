using System.Collections.Concurrent;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Wakes event-stream readers when something happened to a run in this process. It carries no data: readers
/// re-read the database, which keeps the stream correct when the writer is another process (they then notice at
/// their polling interval instead of at once).
/// </summary>
public sealed class RunEvents
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _signals = new();

    public void Notify(Guid runId)
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
