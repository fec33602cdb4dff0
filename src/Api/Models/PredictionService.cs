using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Data;

namespace TrainingService.Api.Models;

/// <summary>
/// Predicts with a succeeded run's model: raw instances in, decoded predictions out. A bounded number of
/// predictions compute at once (the rest wait), so serving cannot starve a training run of cores.
/// </summary>
public sealed class PredictionService(ModelCache cache, IOptions<PredictionOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrency));

    public Task<IReadOnlyList<JsonObject>> PredictAsync(Guid runId, JsonElement instances, CancellationToken ct) =>
        RunAsync(runId, codec => codec.Encode(instances), ct);

    public Task<IReadOnlyList<JsonObject>> PredictImagesAsync(Guid runId, IReadOnlyList<byte[]> images, CancellationToken ct) =>
        RunAsync(runId, codec => codec.EncodeImages(images), ct);

    private async Task<IReadOnlyList<JsonObject>> RunAsync(Guid runId, Func<IPredictionCodec, ArrayDataset> encode, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            return await cache.UseAsync(runId, model =>
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                using var inputs = encode(model.Codec);
                var outputs = model.Session.Predict(inputs);
                return model.Codec.Decode(outputs);
            }, ct);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
