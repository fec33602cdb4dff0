namespace TrainingService.Persistence.Security;

/// <summary>
/// An API key. Only the SHA-256 of the key is stored (keys are 256 random bits, so a fast hash is enough: there is
/// nothing to guess); <see cref="Prefix"/> is its first characters, to recognise a key in a list without revealing it.
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole key.</summary>
    public required string Hash { get; set; }

    /// <summary>Space-separated scopes (<c>runs:read runs:write</c>).</summary>
    public required string Scopes { get; set; }

    /// <summary>The team or user whose runs, sweeps, uploads and models the key acts on.</summary>
    public required string Owner { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Who created it (the actor of the request, or <c>cli</c>).</summary>
    public string? CreatedBy { get; set; }
}
