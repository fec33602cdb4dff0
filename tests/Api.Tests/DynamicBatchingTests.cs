using System.Net;
using System.Text.Json;

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
}
