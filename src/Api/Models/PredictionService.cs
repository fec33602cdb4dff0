using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Observability;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Preprocessing;
using Tensor = TorchSharp.torch.Tensor;

namespace TrainingService.Api.Models;

/// <summary>
/// Predicts with a succeeded run's model: raw instances in, decoded predictions out. A bounded number of
/// predictions compute at once (the rest wait), so serving cannot starve a training run of cores. With
/// <c>Prediction:DynamicBatching</c>, concurrent requests for one model share forward passes (<see cref="PredictionBatcher"/>).
/// </summary>
public sealed class PredictionService(ModelCache cache, IOptions<PredictionOptions> options, ServiceMetrics metrics) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrency));

    public Task<IReadOnlyList<JsonObject>> PredictAsync(Guid runId, JsonElement instances, CancellationToken ct) =>
        ForwardAsync(runId, model => model.Codec.Encode(instances), Decoded, ct);

    /// <summary>Instances already read into dense buffers (the JSON fast path); they must live until the task ends.</summary>
    public Task<IReadOnlyList<JsonObject>> PredictDenseAsync(Guid runId, IReadOnlyList<DenseInput> inputs, IReadOnlyList<string> paths, CancellationToken ct) =>
        ForwardAsync(runId, model => model.Codec.EncodeDense(inputs, paths), Decoded, ct);

    public Task<IReadOnlyList<JsonObject>> PredictImagesAsync(Guid runId, IReadOnlyList<byte[]> images, CancellationToken ct) =>
        ForwardAsync(runId, model => model.Codec.EncodeImages(images), Decoded, ct);

    private static readonly Func<LoadedModel, IReadOnlyList<Tensor>, IReadOnlyList<JsonObject>> Decoded = (model, outputs) => model.Codec.Decode(outputs);

    /// <summary>One prediction with the run's model: <paramref name="encode"/> makes its inputs, <paramref name="decode"/>
    /// reads the outputs into the answer (both on the request's thread, inside a dispose scope; the outputs are disposed
    /// after it). Measured from arrival to answer: waiting for a slot and restoring the model count, as a caller sees them.</summary>
    public async Task<T> ForwardAsync<T>(Guid runId, Func<LoadedModel, ArrayDataset> encode, Func<LoadedModel, IReadOnlyList<Tensor>, T> decode, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (result, name) = options.Value.DynamicBatching ? await BatchedAsync(runId, encode, decode, ct) : await DirectAsync(runId, encode, decode, ct);
        metrics.PredictionServed(name ?? runId.ToString(), System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return result;
    }

    private async Task<(T Result, string? Name)> DirectAsync<T>(Guid runId, Func<LoadedModel, ArrayDataset> encode, Func<LoadedModel, IReadOnlyList<Tensor>, T> decode, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            return await cache.UseAsync(runId, model =>
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                using var inputs = encode(model);
                var outputs = model.Session.Predict(inputs);
                return (decode(model, outputs), model.Name);
            }, ct);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Encodes and decodes on this request's thread; the forward pass is shared with concurrent requests.</summary>
    private async Task<(T Result, string? Name)> BatchedAsync<T>(Guid runId, Func<LoadedModel, ArrayDataset> encode, Func<LoadedModel, IReadOnlyList<Tensor>, T> decode, CancellationToken ct)
    {
        var o = options.Value;
        var model = await cache.AcquireAsync(runId, ct);
        try
        {
            var batcher = model.Batcher(m => new PredictionBatcher(m, WithSlotAsync, o.MaxBatchSize, TimeSpan.FromMilliseconds(Math.Max(0, o.MaxBatchWaitMs))));
            // Dispose scopes are per thread, so none may span an await: one for encoding, one for decoding.
            ArrayDataset inputs;
            using (TorchSharp.torch.NewDisposeScope())
            {
                inputs = encode(model);
                foreach (var t in inputs.Inputs) t.MoveToOuterDisposeScope();
            }
            using (inputs)
            {
                var outputs = await batcher.ForwardAsync(inputs.Inputs, ct);
                using var scope = TorchSharp.torch.NewDisposeScope();
                foreach (var t in outputs) scope.Attach(t);
                return (decode(model, outputs), model.Name);
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

    public void Dispose() => _slots.Dispose();
}
