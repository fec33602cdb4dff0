using System.Net;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace TrainingService.Api.Security;

/// <summary>
/// <c>Auth:Mode=none</c>: every caller is the local admin (owner <c>local</c>). Start-up refuses this mode unless every
/// address the service listens on is loopback; as a second guard, a request that arrived on another address is not
/// authenticated.
/// </summary>
public sealed class LocalAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Local";
    public const string Owner = "local";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var local = Context.Connection.LocalIpAddress;
        if (local is not null && !IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local))
            return Task.FromResult(AuthenticateResult.Fail("Auth:Mode=none serves loopback connections only."));
        var principal = Caller.Principal(SchemeName, "local", Owner, [Scopes.Admin]);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
