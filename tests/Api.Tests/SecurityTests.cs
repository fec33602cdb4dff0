using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Security;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Tests;

/// <summary>Authentication and authorization over the real app in <c>Auth:Mode=keys</c>: every endpoint, every scope,
/// other owners' objects, revoked and expired keys, the dashboard.</summary>
public sealed class SecurityTests : IDisposable
{
    private readonly ServiceFactory _factory = new(("Auth:Mode", "keys"), ("Auth:KeyCacheSeconds", "0.5"));

    public void Dispose() => _factory.Dispose();

    private async Task<string> KeyAsync(string owner, params string[] scopes) =>
        (await _factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync($"{owner}-{string.Join("-", scopes).Replace(':', '_')}", scopes, owner, null, "test", default)).Secret;

    private HttpClient Client(string? key, bool header = false)
    {
        var client = _factory.CreateClient();
        if (key is null) return client;
        if (header) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        else client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Every mapped endpoint except health and the OpenAPI document, with its parameters filled in.</summary>
    private List<(string Method, string Url, IReadOnlyList<string> Policies, bool Json)> Endpoints()
    {
        _ = _factory.Server; // builds the app
        var endpoints = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .ToList();
        var result = new List<(string, string, IReadOnlyList<string>, bool)>();
        foreach (var e in endpoints)
        {
            var url = "/" + string.Join("/", e.RoutePattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart l => l.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "id" } => Guid.NewGuid().ToString(),
                _ => "x",
            }))));
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().ToList();
            // A body the endpoint accepts, so that routing does not answer 415 before authorization is reached.
            var json = e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is not { } accepts
                       || accepts.ContentTypes.Any(t => t.Contains("json"));
            foreach (var method in e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                result.Add((method, url, policies, json));
        }
        Assert.True(result.Count > 20, $"only {result.Count} endpoints found");
        return result;
    }

    private static HttpRequestMessage Request(string method, string url, bool json = true) =>
        new(new HttpMethod(method), url)
        {
            Content = method is not ("POST" or "PUT" or "PATCH") ? null : json ? Specs.Json("{}") : new MultipartFormDataContent { { new StringContent("a"), "x" } },
        };

    [Fact]
    public async Task EveryEndpoint_AnswersUnauthorized_WithoutCredentials()
    {
        using var client = Client(null);
        foreach (var (method, url, _, json) in Endpoints())
        {
            using var response = await client.SendAsync(Request(method, url, json));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {url}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task EveryEndpointWithAScope_AnswersForbidden_ToAKeyWithoutIt()
    {
        // One key per scope; for each endpoint, a key holding none of the scopes it requires.
        var keys = new Dictionary<string, HttpClient>();
        foreach (var scope in new[] { Scopes.RunsRead, Scopes.Predict, Scopes.DatasetsWrite }) keys[scope] = Client(await KeyAsync("team-a", scope));
        var checkedCount = 0;
        foreach (var (method, url, policies, json) in Endpoints().Where(e => e.Policies.Count > 0))
        {
            var scope = keys.Keys.First(s => !policies.Any(p => Scopes.Satisfies(s, p)));
            using var response = await keys[scope].SendAsync(Request(method, url, json));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {url} with {scope}: {(int)response.StatusCode}");
            checkedCount++;
        }
        Assert.True(checkedCount > 15);
        // The key endpoints and the audit need admin.
        using var keysList = await keys[Scopes.RunsRead].GetAsync("/api/keys");
        Assert.Equal(HttpStatusCode.Forbidden, keysList.StatusCode);
    }

    [Fact]
    public async Task AnotherOwnersRunSweepAndModel_AnswerNotFound_ButAdminSeesThem()
    {
        var run = TestData.QueuedRun(name: "theirs");
        run.Status = RunStatus.Succeeded;
        run.FinishedAt = DateTimeOffset.UtcNow;
        run.Owner = "team-b";
        var sweep = new Sweep
        {
            Id = Guid.CreateVersion7(), Name = "their-sweep", Status = RunStatus.Succeeded, CreatedAt = DateTimeOffset.UtcNow, SpecJson = "{}",
            Method = "grid", ObjectiveMetric = "loss", ObjectiveMode = "min", Owner = "team-b",
        };
        await using (var db = _factory.NewDbContext())
        {
            db.Runs.Add(run);
            db.Sweeps.Add(sweep);
            await db.SaveChangesAsync();
        }
        using var teamA = Client(await KeyAsync("team-a", Scopes.RunsWrite, Scopes.Predict));
        var id = run.Id;
        foreach (var (method, url) in new[]
                 {
                     ("GET", $"/api/runs/{id}"), ("GET", $"/api/runs/{id}/metrics"), ("GET", $"/api/runs/{id}/events"),
                     ("GET", $"/api/runs/{id}/weights"), ("GET", $"/api/runs/{id}/keras"), ("GET", $"/api/runs/{id}/cross_validation"),
                     ("POST", $"/api/runs/{id}/cancel"), ("DELETE", $"/api/runs/{id}"), ("GET", "/api/models/theirs"),
                     ("GET", $"/api/sweeps/{sweep.Id}"), ("GET", $"/api/sweeps/{sweep.Id}/events"), ("POST", $"/api/sweeps/{sweep.Id}/cancel"),
                 })
        {
            using var response = await teamA.SendAsync(Request(method, url));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {(int)response.StatusCode}");
        }
        using (var predict = await teamA.PostAsync($"/api/runs/{id}/predict", Specs.Json(Specs.DigitInstances)))
            Assert.Equal(HttpStatusCode.NotFound, predict.StatusCode);
        using (var predict = await teamA.PostAsync("/api/models/theirs/predict", Specs.Json(Specs.DigitInstances)))
            Assert.Equal(HttpStatusCode.NotFound, predict.StatusCode);
        Assert.Equal(0, (await (await teamA.GetAsync("/api/runs")).JsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(0, (await (await teamA.GetAsync("/api/models")).JsonAsync()).GetArrayLength());
        Assert.Equal(0, (await (await teamA.GetAsync("/api/sweeps")).JsonAsync()).GetProperty("items").GetArrayLength());

        using var admin = Client(await KeyAsync("ops", Scopes.Admin));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/runs/{id}")).StatusCode);
        // Visible to admin: the sweep has ended, so cancelling it conflicts instead of not finding it.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/sweeps/{sweep.Id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/models/theirs")).StatusCode);
        Assert.Equal(1, (await (await admin.GetAsync("/api/runs")).JsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task SubmittedRun_BelongsToItsOwner_AndIsAudited()
    {
        var key = await KeyAsync("team-a", Scopes.RunsWrite);
        using var teamA = Client(key, header: true);
        using var teamB = Client(await KeyAsync("team-b", Scopes.RunsWrite));
        var submitted = await teamA.SubmitAsync(Specs.Digits(epochs: 50));
        var id = submitted.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await teamB.GetAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await teamB.DeleteAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await teamA.GetAsync($"/api/runs/{id}")).StatusCode);
        await using (var db = _factory.NewDbContext())
            Assert.Equal("team-a", db.Runs.Single(r => r.Id == id).Owner);
        Assert.Equal(HttpStatusCode.Accepted, (await teamA.PostAsync($"/api/runs/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await teamA.DeleteAsync($"/api/runs/{id}")).StatusCode);

        using var admin = Client(await KeyAsync("ops", Scopes.Admin));
        var audit = await (await admin.GetAsync($"/api/audit?target={id}")).JsonAsync();
        var actions = audit.GetProperty("items").EnumerateArray().Select(a => (a.GetProperty("action").GetString(), a.GetProperty("actor").GetString())).ToList();
        Assert.Equal([("run.delete", "key:team-a-runs_write"), ("run.cancel", "key:team-a-runs_write"), ("run.submit", "key:team-a-runs_write")], actions);
        var keyAudit = await (await admin.GetAsync("/api/audit?action=key.create")).JsonAsync();
        Assert.Equal(3, keyAudit.GetProperty("total").GetInt32());
        Assert.DoesNotContain(key, audit.ToString() + keyAudit);
    }

    [Fact]
    public async Task AnotherOwnersUpload_DoesNotExist_ForListingDescribingDeletingOrTraining()
    {
        using var teamA = Client(await KeyAsync("team-a", Scopes.DatasetsWrite, Scopes.RunsWrite));
        using var teamB = Client(await KeyAsync("team-b", Scopes.DatasetsWrite, Scopes.RunsWrite));
        var upload = await teamA.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv));
        var name = (await upload.JsonAsync()).GetProperty("name").GetString()!;

        var listedToB = (await (await teamB.GetAsync("/api/datasets")).JsonAsync()).EnumerateArray().Select(d => d.GetProperty("name").GetString());
        var submittedByB = await teamB.PostAsync("/api/runs", Specs.Json(Specs.SizesRun(name)));

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        Assert.DoesNotContain(name, listedToB);
        Assert.Equal(HttpStatusCode.NotFound, (await teamB.GetAsync($"/api/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await teamB.DeleteAsync($"/api/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, submittedByB.StatusCode);
        Assert.Contains("dataset.name", (await submittedByB.JsonAsync()).ErrorKeys());
        Assert.Equal(0, _factory.Count("runs"));
        Assert.Equal(HttpStatusCode.OK, (await teamA.GetAsync($"/api/datasets/{name}")).StatusCode);

        // The same bytes uploaded by team B are B's own copy: deleting it leaves A's.
        Assert.Equal(HttpStatusCode.Created, (await teamB.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await teamB.DeleteAsync($"/api/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await teamA.GetAsync($"/api/datasets/{name}")).StatusCode);
        Assert.Equal(1, _factory.Count("dataset_uploads"));
    }

    [Fact]
    public async Task KeysApi_ShowsTheKeyOnce_AndRevocationRefusesIt()
    {
        using var admin = Client(await KeyAsync("ops", Scopes.Admin));
        using var created = await admin.PostAsJsonAsync("/api/keys", new { name = "ci", scopes = new[] { "runs:read" }, owner = "team-c" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var secret = body.GetProperty("key").GetString()!;
        Assert.StartsWith("tsk_", secret);
        var listed = (await admin.GetStringAsync("/api/keys"));
        Assert.DoesNotContain(secret, listed);
        Assert.Contains(body.GetProperty("prefix").GetString()!, listed);
        await using (var db = _factory.NewDbContext())
            Assert.DoesNotContain(db.ApiKeys.ToList(), k => k.Hash.Contains(secret) || k.Prefix == secret);

        using var ci = Client(secret);
        Assert.Equal(HttpStatusCode.OK, (await ci.GetAsync("/api/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{body.GetProperty("id").GetGuid()}")).StatusCode);
        using var after = await ci.GetAsync("/api/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/keys/{Guid.NewGuid()}")).StatusCode);

        using var bad = await admin.PostAsJsonAsync("/api/keys", new { name = "bad name", scopes = new[] { "root" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["name", "scopes"], (await bad.JsonAsync()).ErrorKeys());
    }

    [Fact]
    public async Task KeyRevokedByAnotherNode_StopsWorkingWithinTheCacheInterval()
    {
        var secret = await KeyAsync("team-a", Scopes.RunsRead);
        using var client = Client(secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        // Another node revokes it: only the shared database changes, this node's cache still holds the key.
        await using (var db = _factory.NewDbContext())
        {
            var row = db.ApiKeys.Single(k => k.Hash == ApiKeyStore.Hash(secret));
            row.RevokedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        do
        {
            status = (await client.GetAsync("/api/runs")).StatusCode;
            if (status == HttpStatusCode.Unauthorized) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task ExpiredUnknownOrMalformedKey_AnswersUnauthorized_AsProblemDetails()
    {
        var expired = (await _factory.Services.GetRequiredService<ApiKeyStore>()
            .CreateAsync("old", [Scopes.Admin], "ops", DateTimeOffset.UtcNow.AddSeconds(-1), "test", default)).Secret;
        foreach (var key in new[] { expired, ApiKeyStore.NewSecret(), "not-a-key" })
        {
            using var response = await Client(key).GetAsync("/api/runs");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Dashboard_NeedsAdmin_AndAcceptsTheKeyOnceInTheQuery()
    {
        var handler = new HttpClientHandlerless(_factory);
        Assert.Equal(HttpStatusCode.Unauthorized, (await handler.Client.GetAsync("/hangfire")).StatusCode);
        var reader = await KeyAsync("team-a", Scopes.RunsRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await handler.Client.GetAsync($"/hangfire?api_key={reader}")).StatusCode);

        var admin = await KeyAsync("ops", Scopes.Admin);
        using var first = await handler.Client.GetAsync($"/hangfire?api_key={admin}");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var cookie = first.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(ApiKeyAuthenticationHandler.DashboardCookie));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/hangfire", cookie, StringComparison.OrdinalIgnoreCase);
        // The cookie alone now opens the dashboard's pages, and nothing outside /hangfire.
        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/hangfire/jobs/enqueued");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await handler.Client.SendAsync(withCookie)).StatusCode);
        using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        elsewhere.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await handler.Client.SendAsync(elsewhere)).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_DeclaresBothSecuritySchemes_AndHealthStaysOpen()
    {
        using var client = Client(null);
        var doc = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var schemes = doc.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-Api-Key", schemes.GetProperty("ApiKey").GetProperty("name").GetString());
        Assert.Equal("bearer", schemes.GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.Equal(2, doc.GetProperty("security").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:80", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://10.0.0.5:8080", false)]
    public void IsLoopback_AcceptsOnlyLoopbackHosts(string url, bool loopback) => Assert.Equal(loopback, SecuritySetup.IsLoopback(url));

    /// <summary>A client that does not follow redirects or keep cookies, so each test controls what it sends.</summary>
    private sealed class HttpClientHandlerless(ServiceFactory factory)
    {
        public HttpClient Client { get; } = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
    }
}
