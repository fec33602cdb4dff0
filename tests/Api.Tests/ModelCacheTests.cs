using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Models;

namespace TrainingService.Api.Tests;

/// <summary>Restored models live in a bounded least-recently-used cache; evicted models are restored again on
/// demand, and concurrent requests are all answered.</summary>
public sealed class ModelCacheTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly ServiceFactory _factory = new(("Prediction:CacheSize", "1"));

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Cache_HoldsAtMostItsSize_AndServesEvictedModelsAgain_UnderConcurrentLoad()
    {
        var client = _factory.CreateClient();
        var a = (await client.SubmitAsync(Specs.Digits(epochs: 4, name: "a"))).Id();
        var b = (await client.SubmitAsync(Specs.Digits(epochs: 4, name: "b"))).Id();
        await client.WaitForEndAsync(a, Patience);
        await client.WaitForEndAsync(b, Patience);
        var cache = _factory.Services.GetRequiredService<ModelCache>();

        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            client.PostAsync($"/api/runs/{(i % 2 == 0 ? a : b)}/predict", Specs.Json(Specs.DigitInstances))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in responses)
        {
            var classes = (await r.JsonAsync()).GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("class").GetInt32());
            Assert.Equal([0, 1, 2], classes);
        }
        Assert.Equal(1, cache.Count);
    }
}
