using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Runs;

/// <summary>
/// <c>"initial_weights": {"run": "&lt;id&gt;", "kind": "best|final"}</c>: a run starts from another succeeded run's
/// weights, matched by layer name (see <see cref="InitialWeights"/>), so the classic transfer-learning recipe (freeze
/// the backbone and train a head, then unfreeze and fine-tune) is two runs. Checked at submit; the weights are read
/// again from the source run when training starts, so they are stored once.
/// </summary>
public sealed record InitialWeightsSpec(Guid Run, string Kind)
{
    public const string Key = "initial_weights";

    public static InitialWeightsSpec? Parse(JsonElement value, ValidationErrors errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Key, "Expected an object like {\"run\": \"<run id>\", \"kind\": \"final\"}.");
            return null;
        }
        var ok = true;
        foreach (var p in value.EnumerateObject().Where(p => p.Name is not ("run" or "kind")))
        {
            errors.Add($"{Key}.{p.Name}", "Unknown property. Accepted: run, kind.");
            ok = false;
        }
        Guid run = default;
        if (!value.TryGetProperty("run", out var r) || r.ValueKind != JsonValueKind.String || !Guid.TryParse(r.GetString(), out run))
        {
            errors.Add($"{Key}.run", "Required: the id of a succeeded run whose weights the new run starts from.");
            ok = false;
        }
        var kind = "final";
        if (value.TryGetProperty("kind", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            kind = k.ValueKind == JsonValueKind.String ? k.GetString()! : "";
            if (kind is not ("final" or "best"))
            {
                errors.Add($"{Key}.kind", $"Expected \"final\" (the weights after the last epoch) or \"best\" (after the epoch with the best val_loss, or loss); got {k.GetRawText()}.");
                ok = false;
            }
        }
        return ok ? new InitialWeightsSpec(run, kind) : null;
    }

    public static InitialWeightsSpec? FromSpec(JsonElement spec) =>
        spec.TryGetProperty(Key, out var v) && v.ValueKind == JsonValueKind.Object
            ? new InitialWeightsSpec(Guid.Parse(v.GetProperty("run").GetString()!), v.GetProperty("kind").GetString()!)
            : null;

    public JsonObject ToNode() => new() { ["run"] = Run.ToString(), ["kind"] = Kind };

    /// <summary>Checks that the source run exists, succeeded and has weights whose shapes fit the plan; returns the note
    /// saying which layers start from them, or null after adding the errors.</summary>
    public string? Check(TrainingDbContext db, TrainingPlan plan, ValidationErrors errors)
    {
        var status = db.Runs.Where(r => r.Id == Run).Select(r => (RunStatus?)r.Status).SingleOrDefault();
        if (status is null)
        {
            errors.Add($"{Key}.run", $"No run {Run}.");
            return null;
        }
        if (status != RunStatus.Succeeded)
        {
            errors.Add($"{Key}.run", $"Run {Run} is {status.Value.ToWire()}; only a succeeded run's weights can be a starting point.");
            return null;
        }
        var blob = Blob(db);
        if (blob is null)
        {
            errors.Add($"{Key}.kind", $"Run {Run} has no {Kind} weights{(Kind == "best" ? " (it trained no epoch)" : "")}.");
            return null;
        }
        try
        {
            return $"initial_weights: {InitialWeights.Select(plan, blob, checkpoint: Kind == "best", Key).Note} (run {Run}, {Kind})";
        }
        catch (SpecException e)
        {
            errors.AddRange(e.Errors);
            return null;
        }
    }

    /// <summary>The matched weights for the job, read from the source run now.</summary>
    public byte[] Load(TrainingDbContext db, TrainingPlan plan)
    {
        var blob = Blob(db) ?? throw new InvalidOperationException($"initial_weights: run {Run} and its {Kind} weights no longer exist (deleted after this run was submitted).");
        return InitialWeights.Select(plan, blob, checkpoint: Kind == "best", Key).Archive;
    }

    private byte[]? Blob(TrainingDbContext db)
    {
        var kind = Kind == "best" ? WeightsKind.Best : WeightsKind.Final;
        return db.RunWeights.Where(w => w.RunId == Run && w.Kind == kind).Select(w => w.Data).SingleOrDefault();
    }
}
