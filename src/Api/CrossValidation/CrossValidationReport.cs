using System.Text.Json;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.CrossValidation;

/// <summary>Body of <c>GET /api/runs/{id}/cross_validation</c>: each fold's run and held-out metrics, the mean and
/// standard deviation of every metric over the folds, and the refit run.</summary>
public sealed record CrossValidationReport(
    Guid RunId,
    string Status,
    int Folds,
    bool Stratified,
    int Seed,
    IReadOnlyList<FoldReport> FoldRuns,
    IReadOnlyDictionary<string, double>? Mean,
    IReadOnlyDictionary<string, double>? Std,
    RefitReport? Refit);

/// <summary>A fold: its run, and the trained model's metrics on the fold it held out.</summary>
public sealed record FoldReport(int Fold, Guid RunId, string Status, int EpochsCompleted, int? BestEpoch,
    IReadOnlyDictionary<string, double>? Metrics, string? Error);

/// <summary>The final model, trained on the whole training split and scored on the test split.</summary>
public sealed record RefitReport(Guid RunId, string Status, int EpochsCompleted, IReadOnlyDictionary<string, double>? TestMetrics, string? Error);

public static class CrossValidationAggregate
{
    /// <summary>Mean and population standard deviation (ddof 0, as numpy's <c>std</c> and scikit-learn's reports)
    /// of each metric that every fold has.</summary>
    public static (Dictionary<string, double> Mean, Dictionary<string, double> Std) Summarize(IReadOnlyList<IReadOnlyDictionary<string, double>> folds)
    {
        var mean = new Dictionary<string, double>(StringComparer.Ordinal);
        var std = new Dictionary<string, double>(StringComparer.Ordinal);
        if (folds.Count == 0) return (mean, std);
        foreach (var key in folds[0].Keys.Where(k => folds.All(f => f.ContainsKey(k))))
        {
            var values = folds.Select(f => f[key]).ToArray();
            var m = values.Average();
            mean[key] = m;
            std[key] = Math.Sqrt(values.Sum(v => (v - m) * (v - m)) / values.Length);
        }
        return (mean, std);
    }

    public static IReadOnlyDictionary<string, double>? Metrics(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!
            .Where(kv => kv.Value.ValueKind == JsonValueKind.Number)
            .ToDictionary(kv => kv.Key, kv => kv.Value.GetDouble(), StringComparer.Ordinal);

    public static CrossValidationReport Build(Run parent, CrossValidationSpec cv, IReadOnlyList<Run> children)
    {
        var folds = children.Where(c => c.Role == RunRoles.Fold).OrderBy(c => c.FoldIndex)
            .Select(c => new FoldReport(c.FoldIndex!.Value, c.Id, c.Status.ToWire(), c.EpochsCompleted, c.BestEpoch,
                c.Status == RunStatus.Succeeded ? Metrics(c.MetricsJson) : null, c.Error))
            .ToList();
        var done = folds.Where(f => f.Metrics is not null).Select(f => f.Metrics!).ToList();
        var (mean, std) = done.Count == cv.Folds ? Summarize(done) : (null, null);
        var refit = children.FirstOrDefault(c => c.Role == RunRoles.Refit) is { } r
            ? new RefitReport(r.Id, r.Status.ToWire(), r.EpochsCompleted, r.Status == RunStatus.Succeeded ? Metrics(r.MetricsJson) : null, r.Error)
            : null;
        return new CrossValidationReport(parent.Id, parent.Status.ToWire(), cv.Folds, cv.Stratified, cv.Seed, folds, mean, std, refit);
    }
}
