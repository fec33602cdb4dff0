using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Engine;

namespace TrainingService.Api.CrossValidation;

/// <summary>The <c>cross_validation</c> section of a run: <c>{"folds": 5, "stratified": true, "seed": 1, "refit": true}</c>.</summary>
public sealed record CrossValidationSpec(int Folds, bool Stratified, int Seed, bool Refit)
{
    public const string Key = "cross_validation";
    public const int MaxFolds = 20;
    private static readonly string[] Keys = ["folds", "stratified", "seed", "refit"];

    /// <summary>Reads the section; every problem goes to <paramref name="errors"/> under <c>cross_validation.…</c>.
    /// <paramref name="data"/> (when known) lets stratification be refused for targets without classes.</summary>
    public static CrossValidationSpec? Parse(JsonElement section, DataSignature? data, string? name, ValidationErrors errors)
    {
        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Key, "Expected an object such as {\"folds\": 5, \"stratified\": true, \"seed\": 1, \"refit\": true}.");
            return null;
        }
        var before = errors.ToDictionary().Count;
        foreach (var p in section.EnumerateObject().Where(p => !Keys.Contains(p.Name)))
            errors.Add($"{Key}.{p.Name}", $"Unknown key '{p.Name}'. Accepted: {string.Join(", ", Keys)}.");

        var folds = 5;
        if (section.TryGetProperty("folds", out var f))
        {
            if (f.ValueKind != JsonValueKind.Number || !f.TryGetInt32(out folds) || folds < 2 || folds > MaxFolds)
                errors.Add($"{Key}.folds", $"Expected an integer from 2 to {MaxFolds}; got {f.GetRawText()}.");
        }
        var stratified = Bool(section, "stratified", true, errors);
        var refit = Bool(section, "refit", false, errors);
        var seed = 0;
        if (section.TryGetProperty("seed", out var s) && (s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out seed) || seed < 0))
            errors.Add($"{Key}.seed", $"Expected a non-negative integer; got {s.GetRawText()}.");

        if (stratified && data is { Targets.Count: > 0 } && data.Targets[0].Classes is null)
            errors.Add($"{Key}.stratified", "Stratified folds need class labels, and this dataset's target has none (regression); set \"stratified\": false.");
        if (name is not null && !refit)
            errors.Add($"{Key}.refit", $"A cross-validation run without refit trains no model to serve under the name '{name}'; set \"refit\": true or drop the name.");
        return errors.ToDictionary().Count == before ? new CrossValidationSpec(folds, stratified, seed, refit) : null;
    }

    public static CrossValidationSpec? FromSpec(JsonElement spec) =>
        spec.TryGetProperty(Key, out var cv) ? cv.Deserialize<CrossValidationSpec>(Json.Options) : null;

    public JsonNode ToNode() => JsonSerializer.SerializeToNode(this, Json.Options)!;

    private static bool Bool(JsonElement section, string key, bool fallback, ValidationErrors errors)
    {
        if (!section.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        errors.Add($"{Key}.{key}", $"Expected true or false; got {v.GetRawText()}.");
        return fallback;
    }
}
