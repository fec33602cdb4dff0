using System.Security.Claims;

namespace TrainingService.Api.Security;

/// <summary>What the rest of the service needs to know about an authenticated principal.</summary>
public static class Caller
{
    public static string? Owner(this ClaimsPrincipal user) => user.FindFirst(Scopes.OwnerClaimType)?.Value;

    public static bool Has(this ClaimsPrincipal user, string scope) =>
        user.FindAll(Scopes.ClaimType).Any(c => Scopes.Satisfies(c.Value, scope));

    public static bool IsAdmin(this ClaimsPrincipal user) => user.Has(Scopes.Admin);

    /// <summary>How the principal appears in the audit table: never a secret, only the key's name or the token's subject.</summary>
    public static string Actor(this ClaimsPrincipal user) =>
        user.FindFirst(ActorClaimType)?.Value ?? user.Identity?.Name ?? "anonymous";

    public const string ActorClaimType = "actor";

    /// <summary>A principal for the given owner and scopes, as every scheme builds it.</summary>
    public static ClaimsPrincipal Principal(string scheme, string actor, string owner, IEnumerable<string> scopes, params Claim[] extra)
    {
        var identity = new ClaimsIdentity(scheme, ActorClaimType, Scopes.ClaimType);
        identity.AddClaim(new Claim(ActorClaimType, actor));
        identity.AddClaim(new Claim(Scopes.OwnerClaimType, owner));
        foreach (var scope in scopes.Distinct()) identity.AddClaim(new Claim(Scopes.ClaimType, scope));
        identity.AddClaims(extra);
        return new ClaimsPrincipal(identity);
    }
}
