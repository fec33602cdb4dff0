namespace TrainingService.Api.Security;

/// <summary><c>Auth</c> configuration: how callers prove who they are.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary><c>keys</c> (default: API keys only), <c>jwt</c> (tokens from an identity provider, and API keys),
    /// or <c>none</c> (everyone is a local admin; refused unless the service listens on loopback only).</summary>
    public string Mode { get; set; } = AuthModes.Keys;

    /// <summary>How long a node trusts what it read about a key (a revoked key stops working within this time on
    /// every node; the node that revokes it forgets it at once).</summary>
    public double KeyCacheSeconds { get; set; } = 5;

    public JwtAuthOptions Jwt { get; set; } = new();
}

public static class AuthModes
{
    public const string Keys = "keys";
    public const string Jwt = "jwt";
    public const string None = "none";
}

/// <summary><c>Auth:Jwt</c>: the identity provider and how its claims become an owner and scopes.</summary>
public sealed class JwtAuthOptions
{
    /// <summary>The issuer's URL (its <c>/.well-known/openid-configuration</c> gives the signing keys).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens must be issued for.</summary>
    public string? Audience { get; set; }

    /// <summary>Accepted issuer when it differs from <see cref="Authority"/>.</summary>
    public string? Issuer { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Claims whose values are mapped to scopes (space-separated values are split), e.g. <c>scope</c>,
    /// <c>scp</c>, <c>roles</c>, <c>groups</c>.</summary>
    public string[] ScopeClaims { get; set; } = ["scope", "scp"];

    /// <summary>Claim value → scopes it grants (<c>"ml-admins": ["admin"]</c>). A value that is itself a scope name
    /// grants that scope without an entry.</summary>
    public Dictionary<string, string[]> ScopeMap { get; set; } = [];

    /// <summary>The claim naming the owner (team) whose runs the caller acts on; the subject when absent.</summary>
    public string OwnerClaim { get; set; } = "sub";
}
