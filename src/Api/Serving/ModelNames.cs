using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Models;
using TrainingService.Persistence;
using TrainingService.Persistence.Postgres;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Serving;

/// <summary>A model name's versions: its succeeded runs, oldest first, so version <c>k</c> is the k-th run that
/// succeeded under the name (a promoted sweep winner is one more version). Unversioned requests get the newest.</summary>
public sealed record ModelVersions(string Name, IReadOnlyList<Guid> Runs)
{
    public int Latest => Runs.Count;

    public Guid Run(int version) => Runs[version - 1];

    /// <summary>The version named in a URL ("3"), or the newest when none is; null when there is no such version.</summary>
    public int? Find(string? version) =>
        version is null ? Latest
        : int.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 1 && v <= Runs.Count ? v
        : null;
}

/// <summary>
/// Resolves model names to runs for every name-addressed predict endpoint. A lookup is one indexed query, but at
/// thousands of requests a second it would be most of a request's cost, so answers are kept for
/// <c>Prediction:NameCacheSeconds</c> per (visible owner, name): a run that succeeds on another node is served under
/// its name within that time. A deleted run leaves at once, on this node and (through the model cache's cluster
/// signal) on the others; after lost signals everything is looked up again. Misses are never kept, so a new name is served as soon as its first run succeeds.
/// </summary>
public sealed class ModelNames
{
    private readonly IOptions<PredictionOptions> _options;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Owner, string Name), (ModelVersions Versions, long Expires)> _cache = new();

    public ModelNames(IOptions<PredictionOptions> options, ModelCache models)
    {
        _options = options;
        models.Removed += Forget;
        models.Cleared += _cache.Clear;
    }

    /// <summary>The versions of <paramref name="name"/> that <paramref name="db"/>'s caller may see; null if none.</summary>
    public async Task<ModelVersions?> ResolveAsync(TrainingDbContext db, string name, CancellationToken ct)
    {
        // Another owner's model of the same name is another model: the key is the owner the context is scoped to.
        var key = (db.VisibleOwner ?? "\0all", name);
        var now = Environment.TickCount64;
        if (_cache.TryGetValue(key, out var hit) && hit.Expires > now) return hit.Versions;
        var runs = await SucceededRuns(db, name).ToListAsync(ct);
        if (runs.Count == 0)
        {
            _cache.TryRemove(key, out _);
            return null;
        }
        var versions = new ModelVersions(name, runs);
        var ttl = (long)(Math.Max(0, _options.Value.NameCacheSeconds) * 1000);
        if (ttl > 0) _cache[key] = (versions, now + ttl);
        return versions;
    }

    private static IAsyncEnumerable<Guid> SucceededRuns(TrainingDbContext db, string name) => db is PostgresTrainingDbContext pg
        ? Compiled<PostgresTrainingDbContext>.SucceededRuns(pg, name)
        : Compiled<TrainingDbContext>.SucceededRuns(db, name);

    // A compiled query keeps the provider it first ran on, so each context type (provider) gets its own.
    private static class Compiled<TContext> where TContext : TrainingDbContext
    {
        public static readonly Func<TContext, string, IAsyncEnumerable<Guid>> SucceededRuns =
            EF.CompileAsyncQuery((TContext db, string name) =>
                db.Runs.AsNoTracking().Where(r => r.Name == name && r.Status == RunStatus.Succeeded)
                    .OrderBy(r => r.FinishedAt).ThenBy(r => r.Id).Select(r => r.Id));
    }

    private void Forget(Guid runId)
    {
        foreach (var (key, entry) in _cache)
        {
            if (entry.Versions.Runs.Contains(runId)) _cache.TryRemove(key, out _);
        }
    }
}
