using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Models;

namespace TrainingService.Api.Tests;

/// <summary>Restored models live in a bounded least-recently-used cache; evicted models are restored again on
/// demand, and concurrent requests are all answered.</summary>
public class ModelCacheTests : ServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public ModelCacheTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="ModelCacheTestsOnPostgres"/>).</summary>
    protected ModelCacheTests(PostgresServer? postgres) : base(postgres, ("Prediction:CacheSize", "1"))
    {
    }

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

    [Fact]
    public async Task Cache_OverItsMemoryBudget_KeepsOnlyTheModelJustLoaded_AndRestoresOthersOnDemand()
    {
        // Room for eight models by count, but a budget no model fits in: only the latest one loaded stays.
        using var factory = new ServiceFactory(Postgres, ("Prediction:CacheSize", "8"), ("Prediction:CacheMegabytes", "0.001"));
        var client = factory.CreateClient();
        var a = (await client.SubmitAsync(Specs.Digits(epochs: 2, name: "a"))).Id();
        var b = (await client.SubmitAsync(Specs.Digits(epochs: 2, name: "b"))).Id();
        await client.WaitForEndAsync(a, Patience);
        await client.WaitForEndAsync(b, Patience);
        var cache = factory.Services.GetRequiredService<ModelCache>();

        foreach (var (run, other) in new[] { (a, b), (b, a), (a, b) })
        {
            var response = await client.PostAsync($"/api/runs/{run}/predict", Specs.Json(Specs.DigitInstances));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, cache.Count);
            Assert.True(cache.IsLoaded(run, out _));
            Assert.False(cache.IsLoaded(other, out _));
            Assert.True(cache.Bytes > 1024, $"a digits MLP's weights take more than 1 KiB; counted {cache.Bytes}");
        }
    }
}

/// <summary>Every test of <see cref="ModelCacheTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ModelCacheTestsOnPostgres(PostgresServer postgres) : ModelCacheTests(postgres);
