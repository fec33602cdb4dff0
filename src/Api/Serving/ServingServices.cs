using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Models;
using TrainingService.Persistence;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Serving;

/// <summary>What every serving-protocol handler needs (bound with <c>[AsParameters]</c>), and the steps they share:
/// a name and optional version to a run, a refused input to one line of text.</summary>
public sealed record ServingServices(TrainingDbContext Db, ModelNames Names, ModelCache Models, PredictionService Predictions, IOptions<PredictionOptions> Options)
{
    /// <summary>The run serving <paramref name="name"/> at <paramref name="version"/> (the newest when null), or why not.
    /// Another owner's model does not exist for the caller: the lookup runs on the caller's scoped context.</summary>
    public async Task<(Guid RunId, int Version, ModelVersions? Versions, string? Error)> ResolveAsync(string name, string? version, CancellationToken ct)
    {
        if (await Names.ResolveAsync(Db, name, ct) is not { } versions)
            return (Guid.Empty, 0, null, $"Model '{name}' not found: no succeeded run has that name.");
        if (versions.Find(version) is not { } v)
            return (Guid.Empty, 0, versions, $"Model '{name}' has no version '{version}'; its versions are 1 to {versions.Latest}.");
        return (versions.Run(v), v, versions, null);
    }

    /// <summary>The refusal of an input as the protocols' single error string: each path and what was wrong there.</summary>
    public static string Describe(SpecException e) => string.Join("; ", e.Errors.Select(x => string.IsNullOrEmpty(x.Path) ? x.Message : $"{x.Path}: {x.Message}"));
}
