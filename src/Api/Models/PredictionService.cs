using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Observability;
using TrainingService.Training.Data;

namespace TrainingService.Api.Models;

/// <summary>
/// Predicts with a succeeded run's model: raw instances in, decoded predictions out. A bounded number of
/// predictions compute at once (the rest wait), so serving cannot starve a training run of cores. With
/// <c>Prediction:DynamicBatching</c>, concurrent requests for one model share forward passes (<see cref="PredictionBatcher"/>).
/// </summary>
public sealed class PredictionService(ModelCache cache, IOptions<PredictionOptions> options, ServiceMetrics metrics) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrency));
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, Lazy<PredictionBatcher>> _batchers = new();

    public Task<IReadOnlyList<JsonObject>> PredictAsync(Guid runId, JsonElement instances, CancellationToken ct) =>
        RunAsync(runId, codec => codec.Encode(instances), ct);

    public Task<IReadOnlyList<JsonObject>> PredictImagesAsync(Guid runId, IReadOnlyList<byte[]> images, CancellationToken ct) =>
        RunAsync(runId, codec => codec.EncodeImages(images), ct);

    /// <summary>Measured from arrival to answer: waiting for a slot and restoring the model count, as a caller sees them.</summary>
    private async Task<IReadOnlyList<JsonObject>> RunAsync(Guid runId, Func<IPredictionCodec, ArrayDataset> encode, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (predictions, name) = options.Value.DynamicBatching ? await BatchedAsync(runId, encode, ct) : await DirectAsync(runId, encode, ct);
        metrics.PredictionServed(name ?? runId.ToString(), System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return predictions;
    }

    private async Task<(IReadOnlyList<JsonObject> Predictions, string? Name)> DirectAsync(Guid runId, Func<IPredictionCodec, ArrayDataset> encode, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            return await cache.UseAsync(runId, model =>
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                using var inputs = encode(model.Codec);
                var outputs = model.Session.Predict(inputs);
                return (model.Codec.Decode(outputs), model.Name);
            }, ct);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Encodes and decodes on this request's thread; the forward pass is shared with concurrent requests.</summary>
    private async Task<(IReadOnlyList<JsonObject> Predictions, string? Name)> BatchedAsync(Guid runId, Func<IPredictionCodec, ArrayDataset> encode, CancellationToken ct)
    {
        var o = options.Value;
        var batcher = _batchers.GetOrAdd(runId, _ => new Lazy<PredictionBatcher>(() =>
            new PredictionBatcher(WithSlotAsync, o.MaxBatchSize, TimeSpan.FromMilliseconds(Math.Max(0, o.MaxBatchWaitMs))))).Value;
        var model = await cache.AcquireAsync(runId, ct);
        try
        {
            // Dispose scopes are per thread, so none may span an await: one for encoding, one for decoding.
            ArrayDataset inputs;
            using (TorchSharp.torch.NewDisposeScope())
            {
                inputs = encode(model.Codec);
                foreach (var t in inputs.Inputs) t.MoveToOuterDisposeScope();
            }
            using (inputs)
            {
                var outputs = await batcher.ForwardAsync(model, inputs.Inputs, ct);
                using var scope = TorchSharp.torch.NewDisposeScope();
                foreach (var t in outputs) scope.Attach(t);
                return (model.Codec.Decode(outputs), model.Name);
            }
        }
        finally
        {
            model.Leave();
        }
    }

    private async Task WithSlotAsync(Func<Task> forward)
    {
        await _slots.WaitAsync();
        try
        {
            await forward();
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose()
    {
        foreach (var b in _batchers.Values.Where(b => b.IsValueCreated)) b.Value.Dispose();
        _slots.Dispose();
    }
}
