using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TrainingService.Api.CrossValidation;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Runs;
using TrainingService.Api.Tuning;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Sweeps;

/// <summary>
/// Turns a sweep request into a sweep and its trials, or into everything wrong with it. Every trial's values are
/// drawn here (seeded), and every value the space can produce is checked the way a run submission is checked —
/// each choice, the bounds and an inner point of each range, and each drawn trial — so a space that can produce an
/// invalid model is refused before any trial runs, naming the path and the value.
/// </summary>
public sealed class SweepSubmission(RunSubmission runs, IOptions<TrainingOptions> training, IOptions<TuningOptions> tuning, TimeProvider clock)
{
    private static readonly string[] Keys =
        ["name", "base", "space", "method", "max_trials", "max_concurrent_trials", "objective", "seed", "asha", "promote_to"];

    public (Sweep? Sweep, List<SweepTrial> Trials, ValidationErrors Errors) Validate(byte[] body)
    {
        var errors = new ValidationErrors();
        JsonObject root;
        try
        {
            // Duplicate keys are refused while parsing: a JsonObject would otherwise throw ArgumentException (a 500) the
            // first time it is read.
            root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = false }) as JsonObject
                   ?? throw new JsonException("expected a JSON object");
        }
        catch (JsonException e)
        {
            errors.Add("$", $"The body is not a JSON object: {e.Message}");
            return (null, [], errors);
        }
        foreach (var (k, _) in root.Where(p => !Keys.Contains(p.Key)))
            errors.Add(k, $"Unknown property '{k}'. Accepted: {string.Join(", ", Keys)}.");

        var name = OptionalName(root, "name", errors);
        var promoteTo = OptionalName(root, "promote_to", errors);
        var method = root["method"] is null ? SweepDefinition.Random : root["method"] is JsonValue mv && mv.TryGetValue<string>(out var m) ? m : "";
        if (!SweepDefinition.Methods.Contains(method))
            errors.Add("method", $"Expected one of {string.Join(", ", SweepDefinition.Methods)}.");
        var seed = Int(root, "seed", 0, 0, int.MaxValue, errors) ?? 0;

        // The base: a run spec, checked exactly as POST /api/runs would check it. Trials carry no model name.
        JsonObject? baseSpec = null;
        if (root["base"] is not JsonObject b)
            errors.Add("base", "Expected a run spec object: {\"dataset\": …, \"model\": …, \"compile\": …, \"fit\": …}.");
        else
        {
            baseSpec = b.DeepClone().AsObject();
            baseSpec.Remove("name");
            if (baseSpec.ContainsKey(CrossValidationSpec.Key))
                errors.Add($"base.{CrossValidationSpec.Key}", "Sweeps do not cross-validate their trials; drop cross_validation from the base spec.");
            else
                Prefix(errors, "base", runs.Validate(Bytes(baseSpec)).Errors);
        }

        SearchSpace? space = null;
        using (var spaceDoc = JsonDocument.Parse(root["space"]?.ToJsonString() ?? "null"))
            space = SearchSpace.Parse(spaceDoc.RootElement, "space", errors);
        if (space is not null && method == SweepDefinition.Grid)
        {
            foreach (var (path, _) in space.Parameters.Where(p => p.Domain is not ChoiceDomain))
                errors.Add($"space.{path}", "A grid needs {\"choice\": [...]} for every parameter; use method random or asha for ranges.");
        }

        var limit = tuning.Value.MaxTrials;
        var maxTrials = Int(root, "max_trials", null, 1, limit, errors);
        if (space is not null && method == SweepDefinition.Grid && space.IsDiscrete)
        {
            var size = space.GridSize;
            if (maxTrials is null && size > limit)
                errors.Add("max_trials", $"The grid spans {size} points, more than the limit of {limit} trials; narrow the space or set max_trials to run the first points.");
            maxTrials ??= (int)Math.Min(size, limit);
            maxTrials = (int)Math.Min(maxTrials.Value, size);
        }
        maxTrials ??= 10;
        var maxConcurrent = Int(root, "max_concurrent_trials", Math.Min(maxTrials.Value, training.Value.MaxConcurrentRuns), 1, limit, errors)!.Value;

        AshaSettings? asha = null;
        if (root["asha"] is { } a)
        {
            if (method != SweepDefinition.AshaMethod) errors.Add("asha", "Applies to method \"asha\" only.");
            else if (a is not JsonObject ao) errors.Add("asha", "Expected {\"grace_period\": 1, \"reduction_factor\": 3}.");
            else
            {
                foreach (var (k, _) in ao.Where(p => p.Key is not ("grace_period" or "reduction_factor")))
                    errors.Add($"asha.{k}", "Unknown key. Accepted: grace_period, reduction_factor.");
                asha = new AshaSettings(Int(ao, "grace_period", 1, 1, 10_000, errors, "asha.") ?? 1, Int(ao, "reduction_factor", 3, 2, 100, errors, "asha.") ?? 3);
            }
        }
        else if (method == SweepDefinition.AshaMethod) asha = new AshaSettings();

        Objective? objective = null;
        if (root["objective"] is not JsonObject o || o["metric"] is not JsonValue mm || !mm.TryGetValue<string>(out var metric))
            errors.Add("objective", "Expected {\"metric\": \"val_accuracy\", \"mode\": \"max\"}.");
        else
        {
            foreach (var (k, _) in o.Where(p => p.Key is not ("metric" or "mode")))
                errors.Add($"objective.{k}", "Unknown key. Accepted: metric, mode.");
            var mode = o["mode"] is null ? null : o["mode"] is JsonValue mdv && mdv.TryGetValue<string>(out var md) ? md : "";
            if (mode is not (null or "max" or "min")) errors.Add("objective.mode", "Expected \"max\" or \"min\".");
            objective = new Objective(metric, mode ?? "");
        }

        if (!errors.IsEmpty || baseSpec is null || space is null || objective is null)
            return (null, [], errors);

        var definition = new SweepDefinition(name, baseSpec, root["space"]!.DeepClone().AsObject(), method, maxTrials.Value, maxConcurrent,
            objective, seed, asha, promoteTo);
        var points = space.Points(method == SweepDefinition.Grid, maxTrials.Value, seed);
        objective = CheckSpace(definition, space, points, errors);
        if (!errors.IsEmpty || objective is null) return (null, [], errors);
        definition = definition with { Objective = objective };

        var sweep = new Sweep
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Status = RunStatus.Queued,
            CreatedAt = clock.GetUtcNow(),
            SpecJson = definition.ToJson(),
            Method = method,
            MaxConcurrentTrials = maxConcurrent,
            ObjectiveMetric = objective.Metric,
            ObjectiveMode = objective.Mode,
            PromoteTo = promoteTo,
        };
        var trials = points.Select((p, i) => new SweepTrial { SweepId = sweep.Id, Number = i, ParamsJson = p.ToJsonString() }).ToList();
        return (sweep, trials, errors);
    }

    /// <summary>Validates the space's representative values one parameter at a time (so an error names the path and
    /// value at fault), then every drawn trial; checks the objective is a key every trial logs. Returns the objective
    /// with its mode filled in.</summary>
    private Objective? CheckSpace(SweepDefinition d, SearchSpace space, List<JsonObject> points, ValidationErrors errors)
    {
        foreach (var (path, domain) in space.Parameters)
        {
            foreach (var value in domain.Representatives())
            {
                var spec = d.Base.DeepClone().AsObject();
                if (path.Apply(spec, value) is { } applyError)
                {
                    errors.Add($"space.{path}", applyError);
                    break;
                }
                var problems = runs.Validate(Bytes(spec)).Errors;
                if (!problems.IsEmpty)
                    errors.Add($"space.{path}", $"The value {Show(value)} gives an invalid run: {Describe(problems)}");
            }
        }
        if (!errors.IsEmpty) return null;

        Objective? objective = null;
        for (var i = 0; i < points.Count; i++)
        {
            var spec = space.Apply(d.Base, points[i], out var applyErrors);
            foreach (var (p, e) in applyErrors) errors.Add($"space.{p}", e);
            var problems = runs.Validate(Bytes(spec)).Errors;
            if (!problems.IsEmpty)
            {
                errors.Add("space", $"Trial {i} ({points[i].ToJsonString()}) gives an invalid run: {Describe(problems)}");
                continue;
            }
            var plan = Plan(spec);
            var keys = plan.Compile.LogKeys(plan.Fit.ValidationSplit > 0);
            var key = keys.FirstOrDefault(k => k.Name == d.Objective.Metric);
            if (key.Name is null)
            {
                errors.Add("objective.metric", $"'{d.Objective.Metric}' is not logged by trial {i}; its epochs log {string.Join(", ", keys.Select(k => k.Name))}" +
                    (d.Objective.Metric.StartsWith("val_", StringComparison.Ordinal) && plan.Fit.ValidationSplit <= 0 ? " (val_* needs fit.validation_split)." : "."));
                return null;
            }
            objective ??= d.Objective with { Mode = d.Objective.Mode is "" ? (key.HigherIsBetter ? "max" : "min") : d.Objective.Mode };
            if (d.Asha is { } asha && asha.GracePeriod >= plan.Fit.Epochs)
            {
                errors.Add("asha.grace_period", $"Must be below the trials' fit.epochs ({plan.Fit.Epochs} in trial {i}); the first rung would never come.");
                return null;
            }
        }
        return objective;
    }

    private TrainingPlan Plan(JsonObject spec)
    {
        using var doc = JsonDocument.Parse(spec.ToJsonString());
        return TrainingPlan.FromSpec(doc.RootElement, training.Value.Limits);
    }

    private static string Describe(ValidationErrors problems) =>
        string.Join("; ", problems.ToDictionary().Select(kv => $"{kv.Key}: {string.Join(" ", kv.Value)}"));

    private static string Show(JsonNode? value) => value?.ToJsonString() ?? "null";

    public static byte[] Bytes(JsonObject spec) => Encoding.UTF8.GetBytes(spec.ToJsonString());

    private static void Prefix(ValidationErrors errors, string prefix, ValidationErrors inner)
    {
        foreach (var (k, messages) in inner.ToDictionary())
            foreach (var message in messages) errors.Add(k == "$" ? prefix : $"{prefix}.{k}", message);
    }

    private static string? OptionalName(JsonObject root, string key, ValidationErrors errors)
    {
        if (root[key] is null) return null;
        if (root[key] is JsonValue v && v.TryGetValue<string>(out var s) && SubmittedWork.IsValidName(s)) return s;
        errors.Add(key, $"Expected a model name: {SubmittedWork.NameRule}.");
        return null;
    }

    private static int? Int(JsonObject root, string key, int? fallback, int min, int max, ValidationErrors errors, string prefix = "")
    {
        if (root[key] is null) return fallback;
        if (root[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n >= min && n <= max) return n;
        if (root[key] is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && x >= min && x <= max) return (int)x;
        errors.Add(prefix + key, $"Expected an integer from {min} to {max}; got {root[key]!.ToJsonString()}.");
        return fallback;
    }
}
