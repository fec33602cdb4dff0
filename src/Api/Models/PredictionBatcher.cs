using System.Threading.Channels;
using static TorchSharp.torch;

namespace TrainingService.Api.Models;

/// <summary>
/// Dynamic batching for one run's model, as TorchServe and Triton do it: requests queue their encoded instances, and
/// one loop takes whatever is waiting (up to <c>MaxBatchSize</c> requests, waiting at most <c>MaxBatchWaitMs</c> after
/// the first for more), stacks them into one tensor, runs one forward pass and hands each request its own rows.
/// Encoding and decoding stay on the request threads (they run in parallel); only the forward pass is shared.
/// </summary>
internal sealed class PredictionBatcher : IDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<Func<Task>, Task> _withSlot;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;
    private readonly Task _loop;

    /// <param name="withSlot">Runs a forward pass inside the service's bound on concurrent predictions.</param>
    public PredictionBatcher(Func<Func<Task>, Task> withSlot, int maxBatch, TimeSpan maxWait)
    {
        _withSlot = withSlot;
        _maxBatch = Math.Max(1, maxBatch);
        _maxWait = maxWait;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The model's outputs for <paramref name="inputs"/> (the caller owns and disposes them).</summary>
    public Task<Tensor[]> ForwardAsync(LoadedModel model, IReadOnlyList<Tensor> inputs, CancellationToken ct)
    {
        var pending = new Pending(model, inputs, new TaskCompletionSource<Tensor[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (ct.CanBeCanceled) ct.Register(() => pending.Result.TrySetCanceled(ct));
        if (!_queue.Writer.TryWrite(pending)) pending.Result.TrySetException(new ObjectDisposedException(nameof(PredictionBatcher)));
        return pending.Result.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var p)) batch.Add(p);
            if (batch.Count < _maxBatch && _maxWait > TimeSpan.Zero)
            {
                using var timeout = new CancellationTokenSource(_maxWait);
                try
                {
                    while (batch.Count < _maxBatch && await _queue.Reader.WaitToReadAsync(timeout.Token))
                        while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var p)) batch.Add(p);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                }
            }
            batch.RemoveAll(p => p.Result.Task.IsCompleted); // cancelled while queued
            // A model evicted and restored meanwhile is another instance: one forward pass per instance.
            foreach (var group in batch.GroupBy(p => p.Model))
            {
                var requests = group.ToList();
                try
                {
                    await _withSlot(() =>
                    {
                        Forward(group.Key, requests);
                        return Task.CompletedTask;
                    });
                }
                catch (Exception e)
                {
                    foreach (var p in requests) p.Result.TrySetException(e);
                }
            }
        }
    }

    private static void Forward(LoadedModel model, List<Pending> requests)
    {
        using var scope = NewDisposeScope();
        var stacked = Enumerable.Range(0, requests[0].Inputs.Count)
            .Select(i => requests.Count == 1 ? requests[0].Inputs[i] : cat(requests.Select(r => r.Inputs[i]).ToArray(), 0))
            .ToArray();
        var outputs = model.Session.Predict(stacked);
        long at = 0;
        foreach (var r in requests)
        {
            var n = r.Inputs[0].shape[0];
            var mine = outputs.Select(o => o.narrow(0, at, n).clone().MoveToOuterDisposeScope()).ToArray();
            if (!r.Result.TrySetResult(mine)) foreach (var t in mine) t.Dispose();
            at += n;
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    private sealed record Pending(LoadedModel Model, IReadOnlyList<Tensor> Inputs, TaskCompletionSource<Tensor[]> Result);
}
