using System.Threading.Channels;
using static TorchSharp.torch;

namespace TrainingService.Api.Models;

/// <summary>
/// Dynamic batching for one loaded model, as TorchServe and Triton do it: requests queue their encoded instances, and
/// one loop takes whatever is waiting (up to <c>MaxBatchSize</c> requests, waiting at most <c>MaxBatchWaitMs</c> after
/// the first for more), stacks them into one tensor, runs one forward pass and hands each request its own rows.
/// Encoding and decoding stay on the request threads (they run in parallel); only the forward pass is shared.
/// The batcher belongs to its <see cref="LoadedModel"/> and goes with it.
/// </summary>
internal sealed class PredictionBatcher : IDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly LoadedModel _model;
    private readonly Func<Func<Task>, Task> _withSlot;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;

    /// <param name="withSlot">Runs a forward pass inside the service's bound on concurrent predictions.</param>
    public PredictionBatcher(LoadedModel model, Func<Func<Task>, Task> withSlot, int maxBatch, TimeSpan maxWait)
    {
        _model = model;
        _withSlot = withSlot;
        _maxBatch = Math.Max(1, maxBatch);
        _maxWait = maxWait;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>The model's outputs for <paramref name="inputs"/> (the caller owns and disposes them). The inputs must
    /// stay alive until the task ends: once the loop has taken the request, cancelling it no longer ends the task early.</summary>
    public Task<Tensor[]> ForwardAsync(IReadOnlyList<Tensor> inputs, CancellationToken ct)
    {
        var pending = new Pending(inputs, ct);
        if (ct.CanBeCanceled) pending.Registration = ct.Register(static p => ((Pending)p!).TryCancel(), pending);
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
            // Ownership first: a request cancelled before this point is dropped (its caller may dispose its inputs);
            // one taken here cannot be cancelled any more, so its inputs live until its result is set.
            batch.RemoveAll(p => !p.TryTake());
            if (batch.Count == 0) continue;
            try
            {
                await _withSlot(() =>
                {
                    Forward(batch);
                    return Task.CompletedTask;
                });
            }
            catch (Exception e)
            {
                foreach (var p in batch) p.Result.TrySetException(e);
            }
        }
    }

    private void Forward(List<Pending> requests)
    {
        using var scope = NewDisposeScope();
        var stacked = Enumerable.Range(0, requests[0].Inputs.Count)
            .Select(i => requests.Count == 1 ? requests[0].Inputs[i] : cat(requests.Select(r => r.Inputs[i]).ToArray(), 0))
            .ToArray();
        var outputs = _model.Session.Predict(stacked);
        // Read every request's row count before any result is set: a finished request disposes its inputs.
        var counts = requests.Select(r => r.Inputs[0].shape[0]).ToArray();
        long at = 0;
        for (var k = 0; k < requests.Count; k++)
        {
            var mine = outputs.Select(o => o.narrow(0, at, counts[k]).clone().MoveToOuterDisposeScope()).ToArray();
            if (!requests[k].Result.TrySetResult(mine)) foreach (var t in mine) t.Dispose();
            at += counts[k];
        }
    }

    /// <summary>Stops taking requests; the loop ends once the queue is empty. Called when no request holds the model.</summary>
    public void Dispose() => _queue.Writer.TryComplete();

    private sealed class Pending(IReadOnlyList<Tensor> inputs, CancellationToken ct)
    {
        private const int Queued = 0, Taken = 1, Cancelled = 2;
        private int _state;

        public IReadOnlyList<Tensor> Inputs { get; } = inputs;
        public TaskCompletionSource<Tensor[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }

        public void TryCancel()
        {
            if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) == Queued) Result.TrySetCanceled(ct);
        }

        public bool TryTake()
        {
            if (Interlocked.CompareExchange(ref _state, Taken, Queued) != Queued) return false;
            Registration.Dispose();
            return true;
        }
    }
}
