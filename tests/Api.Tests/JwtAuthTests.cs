using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TrainingService.Api.Security;

namespace TrainingService.Api.Tests;

/// <summary><c>Auth:Mode=jwt</c> with tokens this test signs itself (the issuer's key replaces the provider's metadata).</summary>
public sealed class JwtAuthTests : IDisposable
{
    private static readonly SymmetricSecurityKey SigningKey = new(Encoding.UTF8.GetBytes("a test signing key that is long enough for HS256!"));

    private readonly ServiceFactory _factory = new(
        ("Auth:Mode", "jwt"), ("Auth:Jwt:Audience", "training"), ("Auth:Jwt:Issuer", "https://idp.test"),
        ("Auth:Jwt:OwnerClaim", "team"), ("Auth:Jwt:ScopeClaims:0", "scope"), ("Auth:Jwt:ScopeClaims:1", "groups"),
        ("Auth:Jwt:ScopeMap:ml-admins:0", "admin"));

    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _app;

    public JwtAuthTests() =>
        _app = _factory.WithWebHostBuilder(b => b.ConfigureTestServices(s =>
            s.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o => o.TokenValidationParameters.IssuerSigningKey = SigningKey)));

    public void Dispose()
    {
        _app.Dispose();
        _factory.Dispose();
    }

    private static string Token(SecurityKey key, string audience = "training", DateTime? expires = null, params (string Type, string Value)[] claims) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://idp.test",
            Audience = audience,
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            Subject = new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value))),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });

    private async Task<HttpStatusCode> GetAsync(string url, string token)
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.GetAsync(url)).StatusCode;
    }

    [Fact]
    public async Task Token_WithScopeClaim_GrantsThatScopeOnly()
    {
        var token = Token(SigningKey, claims: [("sub", "alice"), ("team", "vision"), ("scope", "runs:read predict")]);
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/api/runs", token));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync("/api/keys", token));
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/runs", Specs.Json(Specs.Digits()))).StatusCode);
    }

    [Fact]
    public async Task GroupClaim_MappedToAdmin_OpensTheKeyEndpoints()
    {
        var token = Token(SigningKey, claims: [("sub", "bob"), ("team", "ops"), ("groups", "ml-admins")]);
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/api/keys", token));
    }

    [Fact]
    public async Task WrongSignatureAudienceOrExpiry_AnswersUnauthorized()
    {
        var other = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another key, not the issuer's, also long enough"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/api/runs", Token(other, claims: [("sub", "eve"), ("scope", "admin")])));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/api/runs", Token(SigningKey, audience: "other", claims: [("sub", "eve"), ("scope", "admin")])));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("/api/runs",
            Token(SigningKey, expires: DateTime.UtcNow.AddMinutes(-10), claims: [("sub", "eve"), ("scope", "admin")])));
    }

    [Fact]
    public async Task ApiKeys_StillWork_BesideTokens()
    {
        var key = (await _app.Services.GetRequiredService<ApiKeyStore>().CreateAsync("ci", [Scopes.RunsRead], "vision", null, "test", default)).Secret;
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/api/runs", key));
    }
}
