using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Security;

namespace TrainingService.Api.Tests;

/// <summary>Request rates per principal (ASP.NET Core's RateLimiter): past the limit a 429 ProblemDetails naming it and
/// its value, with Retry-After; nothing written; other principals unaffected. Across nodes: <see cref="ClusterRateLimitTests"/>.</summary>
public sealed class RequestLimitTests : IDisposable
{
    private readonly ServiceFactory _factory = new(("Auth:Mode", "keys"),
        ("Requests:SubmissionsPerMinute", "2"), ("Requests:PredictionsPerMinute", "1"));

    public void Dispose() => _factory.Dispose();

    private async Task<HttpClient> ClientAsync(string owner, params string[] scopes)
    {
        var key = await _factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync(owner, scopes, owner, null, "test", default);
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        return client;
    }

    private static async Task AssertTooManyAsync(HttpResponseMessage response, string limit, int value)
    {
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(limit, body.GetProperty("limit").GetString());
        Assert.Equal(value, body.GetProperty("value").GetInt32());
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } d && d > TimeSpan.Zero && d <= TimeSpan.FromMinutes(1), $"Retry-After: {response.Headers.RetryAfter}");
    }

    /// <summary>Windows are clock minutes (so that every node agrees on them): a test that counts to a limit starts
    /// early in one, or the minute may turn between its requests and admit the limit afresh.</summary>
    internal static async Task EarlyInAWindowAsync()
    {
        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() % 60 > 40) await Task.Delay(250);
    }

    [Fact]
    public async Task Submissions_PastThePrincipalsRate_Answer429WithRetryAfter_AndWriteNothing()
    {
        var a = await ClientAsync("team-a", Scopes.RunsWrite);
        await EarlyInAWindowAsync();
        await a.SubmitAsync(Specs.Digits(epochs: 1, name: "one"));
        await a.SubmitAsync(Specs.Digits(epochs: 1, name: "two"));
        var runs = _factory.CountRows().Runs;

        using var third = await a.PostAsync("/api/runs", Specs.Json(Specs.Digits(epochs: 1, name: "three")));
        await AssertTooManyAsync(third, "Requests:SubmissionsPerMinute", 2);
        using var sweep = await a.PostAsync("/api/sweeps", Specs.Json("{}"));
        await AssertTooManyAsync(sweep, "Requests:SubmissionsPerMinute", 2);
        Assert.Equal(runs, _factory.CountRows().Runs);
        Assert.Equal(0, _factory.Count("sweeps"));

        // Another team has its own window.
        var b = await ClientAsync("team-b", Scopes.RunsWrite);
        await b.SubmitAsync(Specs.Digits(epochs: 1, name: "three"));
    }

    [Fact]
    public async Task Predictions_PastThePrincipalsRate_Answer429WithRetryAfter()
    {
        var client = await ClientAsync("team-a", Scopes.Predict);
        await EarlyInAWindowAsync();
        using var first = await client.PostAsync($"/api/runs/{Guid.NewGuid()}/predict", Specs.Json(Specs.DigitInstances));
        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        using var second = await client.PostAsync("/api/models/anything/predict", Specs.Json(Specs.DigitInstances));
        await AssertTooManyAsync(second, "Requests:PredictionsPerMinute", 1);
    }

    [Fact]
    public async Task ReadingIsNotRateLimited()
    {
        var client = await ClientAsync("team-a", Scopes.RunsRead);
        for (var i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
    }
}
