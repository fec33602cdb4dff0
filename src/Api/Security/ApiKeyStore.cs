using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using TrainingService.Persistence;
using TrainingService.Persistence.Security;

namespace TrainingService.Api.Security;

/// <summary>A key as shown once, at creation.</summary>
public sealed record CreatedApiKey(ApiKey Row, string Secret);

/// <summary>
/// Creates, finds and revokes API keys. A key is <c>tsk_</c> + 43 characters of base64url (256 random bits); the
/// database holds its SHA-256 only. Lookups are cached per node for <c>Auth:KeyCacheSeconds</c>, so revocation reaches
/// every node within that time while a busy node still queries the database at most once per key per interval.
/// </summary>
public sealed class ApiKeyStore(IDbContextFactory<TrainingDbContext> contexts, IMemoryCache cache, IOptions<AuthOptions> options, TimeProvider clock)
{
    public const string KeyPrefix = "tsk_";

    public static string NewSecret() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool LooksLikeKey(string value) => value.StartsWith(KeyPrefix, StringComparison.Ordinal) && value.Length is > 20 and < 100;

    public async Task<CreatedApiKey> CreateAsync(string name, IReadOnlyList<string> scopes, string owner, DateTimeOffset? expiresAt,
        string createdBy, CancellationToken ct)
    {
        var secret = NewSecret();
        var row = new ApiKey
        {
            Id = Guid.NewGuid(),
            Name = name,
            Prefix = secret[..(KeyPrefix.Length + 6)],
            Hash = Hash(secret),
            Scopes = string.Join(' ', scopes),
            Owner = owner,
            CreatedAt = clock.GetUtcNow(),
            ExpiresAt = expiresAt,
            CreatedBy = createdBy,
        };
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.ApiKeys.Add(row);
        db.Audit.Add(new AuditEntry { At = row.CreatedAt, Actor = createdBy, Action = "key.create", Target = row.Id.ToString(),
            Owner = owner, Detail = $"name={name} scopes={row.Scopes}" });
        await db.SaveChangesAsync(ct);
        return new CreatedApiKey(row, secret);
    }

    /// <summary>The key's row when it exists, is not revoked and has not expired; otherwise null.</summary>
    public async Task<ApiKey?> FindValidAsync(string secret, CancellationToken ct)
    {
        var hash = Hash(secret);
        if (!cache.TryGetValue(CacheKey(hash), out ApiKey? row))
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            row = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Hash == hash, ct);
            // Unknown keys are cached too, so a flood of wrong keys costs one query per key per interval.
            cache.Set(CacheKey(hash), row, new MemoryCacheEntryOptions
            {
                AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.KeyCacheSeconds)),
                Size = 1,
            });
        }
        if (row is null || row.RevokedAt is not null) return null;
        return row.ExpiresAt is { } expires && expires <= clock.GetUtcNow() ? null : row;
    }

    /// <summary>Marks the key revoked; this node forgets it at once, the others within the cache interval.</summary>
    public async Task<ApiKey?> RevokeAsync(Guid id, string revokedBy, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
        if (row is null) return null;
        if (row.RevokedAt is null)
        {
            row.RevokedAt = clock.GetUtcNow();
            db.Audit.Add(new AuditEntry { At = row.RevokedAt.Value, Actor = revokedBy, Action = "key.revoke", Target = id.ToString(),
                Owner = row.Owner, Detail = $"name={row.Name}" });
            await db.SaveChangesAsync(ct);
        }
        cache.Remove(CacheKey(row.Hash));
        return row;
    }

    public async Task<List<ApiKey>> ListAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.ApiKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ToListAsync(ct);
    }

    private static string CacheKey(string hash) => "apikey:" + hash;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
