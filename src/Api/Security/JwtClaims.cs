using System.Security.Claims;

namespace TrainingService.Api.Security;

/// <summary>Turns a validated token's claims into the service's principal: an owner and scopes, through
/// <c>Auth:Jwt:ScopeMap</c>.</summary>
public static class JwtClaims
{
    public static ClaimsPrincipal ToPrincipal(ClaimsPrincipal token, JwtAuthOptions options)
    {
        var values = options.ScopeClaims
            .SelectMany(type => token.FindAll(type))
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var scopes = new HashSet<string>();
        foreach (var value in values)
        {
            if (Scopes.IsKnown(value)) scopes.Add(value);
            if (options.ScopeMap.TryGetValue(value, out var mapped)) scopes.UnionWith(mapped.Where(Scopes.IsKnown));
        }
        var subject = token.FindFirst("sub")?.Value ?? "unknown";
        var owner = token.FindFirst(options.OwnerClaim)?.Value ?? subject;
        return Caller.Principal("Bearer", $"jwt:{subject}", owner, scopes);
    }
}
