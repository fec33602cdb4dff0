using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Models;

namespace TrainingService.Api.Tests;

/// <summary>Prediction:DynamicBatching: concurrent requests share forward passes and each gets exactly its own rows.</summary>
public sealed class DynamicBatchingTests : IDisposable
{
    private readonly ServiceFactory _factory = new(("Prediction:DynamicBatching", "true"), ("Prediction:MaxBatchWaitMs", "5"));

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task ConcurrentSingleInstanceRequests_EachGetTheirOwnPrediction_ABadOneFailsAlone()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 3))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(id, TimeSpan.FromSeconds(90))).Status());
        var all = (await client.PostJsonAsync($"/api/runs/{id}/predict", Specs.DigitInstances)).GetProperty("predictions");
        var instances = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances").EnumerateArray().ToList();

        var requests = Enumerable.Range(0, 30).Select(async i =>
        {
            var body = $$"""{"instances": [{{instances[i % 3].GetRawText()}}]}""";
            return (i % 3, (await client.PostJsonAsync($"/api/runs/{id}/predict", body)).GetProperty("predictions"));
        }).ToList();
        var bad = client.PostAsync($"/api/runs/{id}/predict", Specs.Json("""{"instances": [[1, 2, 3]]}"""));
        await Task.WhenAll(requests);

        Assert.Equal(HttpStatusCode.BadRequest, (await bad).StatusCode);
        foreach (var (k, predictions) in requests.Select(r => r.Result))
        {
            Assert.Equal(1, predictions.GetArrayLength());
            Assert.Equal(all[k].GetProperty("class").GetInt32(), predictions[0].GetProperty("class").GetInt32());
            var expected = all[k].GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble());
            var got = predictions[0].GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble());
            Assert.All(expected.Zip(got), p => Assert.Equal(p.First, p.Second, 5));
        }
    }

    [Fact]
    public async Task ConcurrentRequests_WithRandomCancellations_NeverFailOneThatWasNotCancelled()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 2))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(id, TimeSpan.FromSeconds(90))).Status());
        var service = _factory.Services.GetRequiredService<PredictionService>();
        var instances = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances");
        var expected = (await service.PredictAsync(id, instances, CancellationToken.None)).Select(p => p["class"]!.GetValue<int>()).ToArray();
        var singles = instances.EnumerateArray().Select(i => JsonDocument.Parse($"[{i.GetRawText()}]").RootElement).ToArray();

        // Cancellations land before, while and after the batch loop takes a request (a taken request's inputs are in
        // its forward pass: disposing them then would fail every request of that batch, cancelled or not).
        var rng = new Random(13);
        var (completed, cancelled) = (0, 0);
        for (var round = 0; round < 8; round++)
        {
            var requests = Enumerable.Range(0, 60).Select(i =>
            {
                var k = i % 3;
                var cts = new CancellationTokenSource();
                var cancelAfter = rng.Next(4) switch { 0 => -1, 1 => 0, _ => rng.Next(1, 6) };
                return (k, cts, cancelAfter, Task: Task.Run(async () =>
                {
                    if (cancelAfter == 0) cts.Cancel();
                    else if (cancelAfter > 0) cts.CancelAfter(cancelAfter);
                    return await service.PredictAsync(id, singles[k], cts.Token);
                }));
            }).ToList();
            foreach (var (k, cts, cancelAfter, task) in requests)
            {
                try
                {
                    var result = await task;
                    Assert.Equal(expected[k], Assert.Single(result)["class"]!.GetValue<int>());
                    completed++;
                }
                catch (OperationCanceledException) when (cancelAfter >= 0)
                {
                    cancelled++; // only a request that was cancelled may end this way
                }
                finally
                {
                    cts.Dispose();
                }
            }
        }
        Assert.True(completed > 0 && cancelled > 0, $"{completed} completed, {cancelled} cancelled: the test exercised neither path");
    }
}
