using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using static TorchSharp.torch;

namespace TrainingService.Api.Tests;

/// <summary><c>GET /api/runs/{id}/export</c>: a trained run leaves with its weights and its preprocessing; the .keras
/// file predicts what the service predicts; bad formats and unfinished runs are refused.</summary>
public sealed class RunExportTests() : ServiceTests(null)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Export_SucceededRun_InEveryFormat_CarriesWeightsAndPreprocessing()
    {
        var client = _factory.CreateClient();
        var run = await client.SubmitAsync(Specs.Digits(epochs: 1, name: "digits-export"));
        Assert.Equal("succeeded", (await client.WaitForEndAsync(run.Id(), Patience)).Status());

        var keras = await client.GetAsync($"/api/runs/{run.Id()}/export?format=keras");
        Assert.True(keras.StatusCode == HttpStatusCode.OK, await keras.Content.ReadAsStringAsync());
        Assert.Equal("digits-export.keras", keras.Content.Headers.ContentDisposition!.FileName);
        var archive = await keras.Content.ReadAsByteArrayAsync();
        using (var zip = new ZipArchive(new MemoryStream(archive)))
        {
            using var meta = zip.GetEntry("metadata.json")!.Open();
            var metadata = JsonNode.Parse(meta)!;
            Assert.Equal(0.0625, metadata["training_service"]!["preprocessing"]!["inputs"]![0]!["rescale"]!.GetValue<double>());
        }

        // The archive, read back by the importer, predicts the service's probabilities (rescale applied by hand).
        var import = KerasArchive.Import(archive);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model),
            JsonDocument.Parse("""{"optimizer": "sgd", "loss": "mse"}""").RootElement, null);
        using var session = ModelSession.Restore(plan, import.Weights!);
        var instances = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances");
        var pixels = instances.EnumerateArray().SelectMany(i => i.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => (float)(v.GetDouble() * 0.0625)))).ToArray();
        var local = session.Predict([tensor(pixels, [3, 8, 8])])[0].data<float>().ToArray();
        var served = await client.PostJsonAsync($"/api/runs/{run.Id()}/predict", Specs.DigitInstances);
        var probabilities = served.GetProperty("predictions").EnumerateArray()
            .SelectMany(p => p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle())).ToArray();
        Assert.Equal(probabilities.Length, local.Length);
        for (var i = 0; i < local.Length; i++) Assert.Equal(probabilities[i], local[i], 1e-5f);

        var tfjs = await client.GetAsync($"/api/runs/{run.Id()}/export?format=tfjs");
        Assert.Equal(HttpStatusCode.OK, tfjs.StatusCode);
        using (var zip = new ZipArchive(new MemoryStream(await tfjs.Content.ReadAsByteArrayAsync())))
            Assert.Equal(["group1-shard1of1.bin", "model.json"], zip.Entries.Select(e => e.FullName).Order().ToArray());

        var onnx = await client.GetAsync($"/api/runs/{run.Id()}/export?format=onnx");
        Assert.Equal(HttpStatusCode.OK, onnx.StatusCode);
        Assert.Equal("digits-export.onnx", onnx.Content.Headers.ContentDisposition!.FileName);
        Assert.True((await onnx.Content.ReadAsByteArrayAsync()).Length > 4 * (64 * 32 + 32 * 10));
    }

    /// <summary>A run whose Normalization adapted on the training split: the .keras export (mean, variance, count) and the
    /// TF.js export (as BatchNormalization), read back by the importers, predict what the service predicts.</summary>
    [Fact]
    public async Task Export_RunWithAnAdaptedNormalization_KerasAndTfjsPredictWhatTheServicePredicts()
    {
        var client = _factory.CreateClient();
        var spec = JsonNode.Parse(Specs.Digits(epochs: 1, name: "digits-normalized"))!;
        spec["model"]!["layers"]!.AsArray().Insert(1, JsonNode.Parse("""{"type": "Normalization"}"""));
        var run = await client.SubmitAsync(spec.ToJsonString());
        Assert.Equal("succeeded", (await client.WaitForEndAsync(run.Id(), Patience)).Status());

        var served = await client.PostJsonAsync($"/api/runs/{run.Id()}/predict", Specs.DigitInstances);
        var probabilities = served.GetProperty("predictions").EnumerateArray()
            .SelectMany(p => p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var instances = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances");
        var pixels = instances.EnumerateArray().SelectMany(i => i.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => (float)(v.GetDouble() * 0.0625)))).ToArray();

        var keras = await client.GetAsync($"/api/runs/{run.Id()}/export?format=keras");
        Assert.True(keras.StatusCode == HttpStatusCode.OK, await keras.Content.ReadAsStringAsync());
        var tfjs = await client.GetAsync($"/api/runs/{run.Id()}/export?format=tfjs");
        Assert.True(tfjs.StatusCode == HttpStatusCode.OK, await tfjs.Content.ReadAsStringAsync());
        foreach (var import in new[] { KerasArchive.Import(await keras.Content.ReadAsByteArrayAsync()), TfjsImporter.ImportZip(await tfjs.Content.ReadAsByteArrayAsync()) })
        {
            var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model),
                JsonDocument.Parse("""{"optimizer": "sgd", "loss": "mse"}""").RootElement, null);
            using var session = ModelSession.Restore(plan, import.Weights!);
            using (var weights = new MemoryStream(import.Weights!))
            {
                // Adapted: the training split's pixel means, not the zeros Keras starts from (the TF.js export carries them as
                // the BatchNormalization's moving mean).
                var state = TensorArchive.Read(weights);
                var mean = state.Single(kv => kv.Key.EndsWith("mean", StringComparison.Ordinal)).Value.data<float>().ToArray();
                Assert.Equal(64, mean.Length);
                Assert.True(mean.Max() > 0.3, string.Join(", ", mean));
                foreach (var t in state.Values) t.Dispose();
            }
            var local = session.Predict([tensor(pixels, [3, 8, 8])])[0].data<float>().ToArray();
            Assert.Equal(probabilities.Length, local.Length);
            for (var i = 0; i < local.Length; i++) Assert.Equal(probabilities[i], local[i], 1e-5f);
        }
    }

    [Fact]
    public async Task Export_RefusesAnUnknownFormat_AMissingRun_AndARunThatHasNotSucceeded()
    {
        var client = _factory.CreateClient();
        var missing = await client.GetAsync($"/api/runs/{Guid.NewGuid()}/export?format=onnx");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var run = await client.SubmitAsync(Specs.Digits(epochs: 500, name: "digits-long"));
        var unknown = await client.GetAsync($"/api/runs/{run.Id()}/export?format=pickle");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["format"], (await unknown.JsonAsync()).ErrorKeys());

        var early = await client.GetAsync($"/api/runs/{run.Id()}/export?format=keras");
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        await client.PostAsync($"/api/runs/{run.Id()}/cancel", null);
        await client.WaitForEndAsync(run.Id(), Patience);
    }
}
