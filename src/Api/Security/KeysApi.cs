using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence.Security;

namespace TrainingService.Api.Security;

public sealed record CreateKeyRequest(string? Name, IReadOnlyList<string>? Scopes, string? Owner, DateTimeOffset? ExpiresAt);

/// <summary>A key as listed: never the secret, only its first characters.</summary>
public sealed record KeyResponse(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, string Owner,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? CreatedBy);

/// <summary>The answer to a creation: the only time the key itself is shown.</summary>
public sealed record CreatedKeyResponse(Guid Id, string Name, string Key, string Prefix, IReadOnlyList<string> Scopes, string Owner,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

public static partial class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/keys").WithTags("Keys").RequireAuthorization(Scopes.Admin);
        api.MapPost("/", CreateKey).WithName("CreateKey")
            .WithSummary("Create an API key (admin); the answer is the only time the key is shown");
        api.MapGet("/", ListKeys).WithName("ListKeys").WithSummary("Keys with their scopes, owners and state (never the keys themselves)");
        api.MapDelete("/{id:guid}", RevokeKey).WithName("RevokeKey")
            .WithSummary("Revoke a key: refused on this node at once, on every node within Auth:KeyCacheSeconds");
        return app;
    }

    public static async Task<Results<Created<CreatedKeyResponse>, ValidationProblem>> CreateKey(
        CreateKeyRequest request, HttpContext context, ApiKeyStore keys, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = Validate(request.Name, request.Scopes, request.Owner ?? context.User.Owner(), request.ExpiresAt, clock.GetUtcNow());
        if (!errors.IsEmpty) return Problems.Invalid(errors);
        var created = await keys.CreateAsync(request.Name!, request.Scopes!.Distinct().ToList(), request.Owner ?? context.User.Owner()!,
            request.ExpiresAt, context.User.Actor(), cancellationToken);
        var row = created.Row;
        return TypedResults.Created($"/api/keys/{row.Id}", new CreatedKeyResponse(row.Id, row.Name, created.Secret, row.Prefix, ScopesOf(row), row.Owner, row.CreatedAt, row.ExpiresAt));
    }

    /// <summary>The same rules for the endpoint and the command line.</summary>
    public static ValidationErrors Validate(string? name, IReadOnlyList<string>? scopes, string? owner, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var errors = new ValidationErrors();
        if (name is null || !NamePattern().IsMatch(name))
            errors.Add("name", "1-64 characters: letters, digits, '.', '_' or '-'.");
        if (scopes is null || scopes.Count == 0)
            errors.Add("scopes", $"Give at least one scope: {string.Join(", ", Scopes.All)}.");
        else if (scopes.FirstOrDefault(s => !Scopes.IsKnown(s)) is { } unknown)
            errors.Add("scopes", $"Unknown scope '{unknown}'. Accepted: {string.Join(", ", Scopes.All)}.");
        if (owner is null || !NamePattern().IsMatch(owner))
            errors.Add("owner", "1-64 characters: letters, digits, '.', '_' or '-'.");
        if (expiresAt is { } e && e <= now)
            errors.Add("expires_at", "Must be in the future.");
        return errors;
    }

    public static async Task<Ok<List<KeyResponse>>> ListKeys(ApiKeyStore keys, CancellationToken cancellationToken) =>
        TypedResults.Ok((await keys.ListAsync(cancellationToken)).Select(AsResponse).ToList());

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(Guid id, HttpContext context, ApiKeyStore keys, CancellationToken cancellationToken) =>
        await keys.RevokeAsync(id, context.User.Actor(), cancellationToken) is null
            ? Problems.NotFound("Key not found", $"No API key has id {id}.")
            : TypedResults.NoContent();

    private static KeyResponse AsResponse(ApiKey k) =>
        new(k.Id, k.Name, k.Prefix, ScopesOf(k), k.Owner, k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.CreatedBy);

    private static IReadOnlyList<string> ScopesOf(ApiKey k) => k.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}
