using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace TrainingService.Api.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer tsk_…</c> or <c>X-Api-Key: tsk_…</c>. For the job dashboard only (a browser
/// cannot add headers to a link), <c>/hangfire?api_key=tsk_…</c> is accepted once and turned into an HttpOnly cookie
/// scoped to <c>/hangfire</c>.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string DashboardPath = "/hangfire";
    public const string DashboardCookie = "ts_dashboard_key";
    public const string DashboardQuery = "api_key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (secret, fromQuery) = Find(Request);
        if (secret is null) return AuthenticateResult.NoResult();
        if (!ApiKeyStore.LooksLikeKey(secret)) return AuthenticateResult.Fail("Not an API key.");
        var key = await keys.FindValidAsync(secret, Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("Unknown, revoked or expired API key.");
        if (fromQuery)
        {
            Response.Cookies.Append(DashboardCookie, secret, new CookieOptions
            {
                Path = DashboardPath, HttpOnly = true, Secure = Request.IsHttps, SameSite = SameSiteMode.Strict,
                Expires = key.ExpiresAt,
            });
        }
        var principal = Caller.Principal(SchemeName, $"key:{key.Name}", key.Owner, key.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            new System.Security.Claims.Claim("key_id", key.Id.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    internal static (string? Secret, bool FromQuery) Find(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && header.Count > 0) return (header[0], false);
        if (BearerToken(request) is { } bearer && ApiKeyStore.LooksLikeKey(bearer)) return (bearer, false);
        if (request.Path.StartsWithSegments(DashboardPath))
        {
            if (request.Query.TryGetValue(DashboardQuery, out var query) && query.Count > 0) return (query[0], true);
            if (request.Cookies.TryGetValue(DashboardCookie, out var cookie)) return (cookie, false);
        }
        return (null, false);
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var value = request.Headers.Authorization.ToString();
        return value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value["Bearer ".Length..].Trim() : null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return base.HandleChallengeAsync(properties);
    }
}
