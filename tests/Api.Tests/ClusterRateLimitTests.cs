using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrainingService.Api.Limits;
using TrainingService.Api.Security;
using TrainingService.Persistence;
using TrainingService.Persistence.Limits;

namespace TrainingService.Api.Tests;

/// <summary>Request rates hold for the cluster: two instances of the service over one database (two api nodes) share a
/// principal's window, predictions are claimed from it in chunks and never pass the limit together, and old windows
/// are deleted, and a node whose database fails keeps limiting on its own. The same tests run on PostgreSQL (<see cref="ClusterRateLimitTestsOnPostgres"/>).</summary>
public class ClusterRateLimitTests : IDisposable
{
    private const int Submissions = 2;
    private const int Predictions = 200;
    private readonly ServiceFactory _a;
    private readonly ServiceFactory _b;
    private readonly LogCapture _logs = new();

    /// <summary>The two nodes as they run: <see cref="_a"/> and <see cref="_b"/> with their logs captured (the database's
    /// commands included, to count the claims).</summary>
    private readonly WebApplicationFactory<Program> _nodeA;
    private readonly WebApplicationFactory<Program> _nodeB;

    public ClusterRateLimitTests() : this(null)
    {
    }

    protected ClusterRateLimitTests(PostgresServer? postgres)
    {
        (string, string)[] settings = [("Auth:Mode", "keys"),
            ("Requests:SubmissionsPerMinute", $"{Submissions}"), ("Requests:PredictionsPerMinute", $"{Predictions}")];
        _a = new ServiceFactory(postgres, settings);
        (string, string)[] sameDatabase = _a.PostgresConnectionString is { } pg
            ? [("Database:Provider", "postgres"), ("ConnectionStrings:Postgres", pg)]
            : [("Storage:Root", _a.Root)];
        _b = new ServiceFactory(null, [.. settings, .. sameDatabase]);
        _nodeA = Captured(_a);
        _nodeB = Captured(_b);
    }

    private WebApplicationFactory<Program> Captured(ServiceFactory node) => node.WithWebHostBuilder(b => b.ConfigureServices(s =>
        s.AddLogging(l => l.AddProvider(_logs).AddFilter<LogCapture>(null, LogLevel.Information))));

    public void Dispose()
    {
        // The second node first: the first one owns the database and deletes it.
        _nodeB.Dispose();
        _b.Dispose();
        _nodeA.Dispose();
        _a.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task<(HttpClient A, HttpClient B)> ClientsAsync(string owner, params string[] scopes)
    {
        var key = await _nodeA.Services.GetRequiredService<ApiKeyStore>().CreateAsync(owner, scopes, owner, null, "test", default);
        return (Client(_nodeA), Client(_nodeB));

        HttpClient Client(WebApplicationFactory<Program> node)
        {
            var client = node.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
            return client;
        }
    }

    private static async Task AssertTooManyAsync(HttpResponseMessage response, string limit, int value)
    {
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(limit, body.GetProperty("limit").GetString());
        Assert.Equal(value, body.GetProperty("value").GetInt32());
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } d && d > TimeSpan.Zero && d <= TimeSpan.FromMinutes(1), $"Retry-After: {response.Headers.RetryAfter}");
    }

    private TrainingDbContext NewDbContext() => _nodeA.Services.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContext();

    private int ClaimsSent() => _logs.Entries.Count(e => e.Message.Contains("INSERT INTO rate_windows", StringComparison.Ordinal));

    private long Claimed(string owner, string policy)
    {
        using var db = NewDbContext();
        return db.RateWindows.Where(w => w.Owner == owner && w.Policy == policy).Sum(w => w.Claimed);
    }

    [Fact]
    public async Task Submissions_SpentOnOneNode_AreRefusedOnTheOther_AndNothingIsWritten()
    {
        var (a, b) = await ClientsAsync("team-a", Scopes.RunsWrite);
        await RequestLimitTests.EarlyInAWindowAsync();
        await a.SubmitAsync(Specs.Digits(epochs: 1, name: "one"));
        await a.SubmitAsync(Specs.Digits(epochs: 1, name: "two"));
        var runs = _a.CountRows().Runs;

        using var refused = await b.PostAsync("/api/runs", Specs.Json(Specs.Digits(epochs: 1, name: "three")));
        await AssertTooManyAsync(refused, "Requests:SubmissionsPerMinute", Submissions);
        using var sweep = await b.PostAsync("/api/sweeps", Specs.Json("{}"));
        await AssertTooManyAsync(sweep, "Requests:SubmissionsPerMinute", Submissions);
        Assert.Equal(runs, _a.CountRows().Runs);
        Assert.Equal(0, _a.Count("sweeps"));

        // Another team's window is its own, on either node.
        var (_, otherOnB) = await ClientsAsync("team-b", Scopes.RunsWrite);
        await otherOnB.SubmitAsync(Specs.Digits(epochs: 1, name: "three"));
    }

    [Fact]
    public async Task Predictions_OverTwoNodes_AdmitTheLimitInAll_ClaimingInChunks()
    {
        var (a, b) = await ClientsAsync("team-a", Scopes.Predict);
        await RequestLimitTests.EarlyInAWindowAsync();
        var (admitted, lastRefusal) = await PredictAsync([a, b], Predictions + 100);

        // Both nodes served, and together exactly the limit: a claim is clamped to what the window has left, and a
        // node refuses only once its reserve is used, so no permit was lost either.
        Assert.True(admitted[0] > 0 && admitted[1] > 0, $"admitted {admitted[0]} + {admitted[1]}");
        Assert.Equal(Predictions, admitted.Sum());
        await AssertTooManyAsync(lastRefusal!, "Requests:PredictionsPerMinute", Predictions);
        lastRefusal!.Dispose();
        // Claims stop once the window is spent: at most one more chunk per node went to the database.
        var chunk = RequestLimits.Chunk(Predictions);
        Assert.Equal(2, chunk);
        Assert.InRange(Claimed("team-a", RequestLimits.Predictions), Predictions, Predictions + 2 * chunk);
        // One database write per chunk, not per request (a claim cut short counts too, hence one more per node).
        Assert.InRange(ClaimsSent(), Predictions / chunk, Predictions / chunk + 2);
    }

    [Fact]
    public async Task WhenTheDatabaseFails_EachNodeLimitsOnItsOwn_AndSaysSo()
    {
        var (a, b) = await ClientsAsync("team-a", Scopes.Predict);
        await using (var db = NewDbContext()) await db.Database.ExecuteSqlRawAsync("DROP TABLE rate_windows");

        var (onA, refusal) = await PredictAsync([a], Predictions + 20);
        var (onB, _) = await PredictAsync([b], 5);

        // Fail open to the node's own window, not closed: each node still admits up to the limit, and refuses past it.
        Assert.Equal(Predictions, onA[0]);
        await AssertTooManyAsync(refusal!, "Requests:PredictionsPerMinute", Predictions);
        refusal!.Dispose();
        Assert.Equal(5, onB[0]);
        Assert.Contains(_logs.Entries, e => e.Category == typeof(SharedRateWindows).FullName && e.Level == LogLevel.Warning);
    }

    /// <summary>Sends <paramref name="count"/> predictions for an unknown model, taking the nodes in turn; the limiter runs
    /// before the handler, so an admitted request is a 404. Answers the admitted per node and the last 429.</summary>
    private static async Task<(int[] Admitted, HttpResponseMessage? LastRefusal)> PredictAsync(HttpClient[] nodes, int count)
    {
        var admitted = new int[nodes.Length];
        HttpResponseMessage? lastRefusal = null;
        for (var i = 0; i < count; i++)
        {
            var node = i % nodes.Length;
            var response = await nodes[node].PostAsync("/api/models/anything/predict", Specs.Json(Specs.DigitInstances));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                lastRefusal?.Dispose();
                lastRefusal = response;
                continue;
            }
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            admitted[node]++;
            response.Dispose();
        }
        return (admitted, lastRefusal);
    }

    [Fact]
    public async Task WindowsBeforeThePreviousOne_AreDeleted_ByTheFirstClaimOfANewWindow()
    {
        var (a, _) = await ClientsAsync("team-a", Scopes.Predict);
        await RequestLimitTests.EarlyInAWindowAsync();
        var current = SharedRateWindows.WindowStart(DateTimeOffset.UtcNow);
        await using (var db = NewDbContext())
        {
            db.RateWindows.AddRange(
                new RateWindow { Owner = "team-x", Policy = RequestLimits.Predictions, WindowStart = current - 3600, Claimed = 5 },
                new RateWindow { Owner = "team-a", Policy = RequestLimits.Submissions, WindowStart = current - 120, Claimed = 1 },
                new RateWindow { Owner = "team-a", Policy = RequestLimits.Predictions, WindowStart = current - 60, Claimed = 7 });
            await db.SaveChangesAsync();
        }

        using var response = await a.PostAsync("/api/models/anything/predict", Specs.Json(Specs.DigitInstances));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await using var after = NewDbContext();
        var left = await after.RateWindows.OrderBy(w => w.WindowStart).Select(w => new { w.Owner, w.WindowStart }).ToListAsync();
        Assert.Equal([new { Owner = "team-a", WindowStart = current - 60 }, new { Owner = "team-a", WindowStart = current }], left);
    }
}

/// <summary>Every test of <see cref="ClusterRateLimitTests"/>, both nodes on one PostgreSQL database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterRateLimitTestsOnPostgres(PostgresServer postgres) : ClusterRateLimitTests(postgres);
