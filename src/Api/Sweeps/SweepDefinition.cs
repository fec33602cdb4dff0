using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Sweeps;

/// <summary>The early-stopping scheduler's settings (ASHA, as Ray Tune's AsyncHyperBandScheduler): rungs at
/// <c>grace_period · reduction_factor^k</c> epochs below the trial's <c>fit.epochs</c>.</summary>
public sealed record AshaSettings(int GracePeriod = 1, int ReductionFactor = 3)
{
    public IReadOnlyList<int> Rungs(int epochs)
    {
        var rungs = new List<int>();
        for (long r = GracePeriod; r < epochs; r *= ReductionFactor) rungs.Add((int)r);
        return rungs;
    }
}

public sealed record Objective(string Metric, string Mode)
{
    public bool Maximize => Mode == "max";
}

/// <summary>A sweep request as accepted (normalised: every default filled in). Stored as the sweep's spec; the
/// coordinator rebuilds each trial's run spec from <see cref="Base"/> and the trial's values.</summary>
public sealed record SweepDefinition(
    string? Name,
    JsonObject Base,
    JsonObject Space,
    string Method,
    int MaxTrials,
    int MaxConcurrentTrials,
    Objective Objective,
    int Seed,
    AshaSettings? Asha,
    string? PromoteTo)
{
    public const string Grid = "grid", Random = "random", AshaMethod = "asha";
    public static readonly string[] Methods = [Grid, Random, AshaMethod];

    public string ToJson() => JsonSerializer.Serialize(this, Json.Options);

    public static SweepDefinition FromJson(string json) => JsonSerializer.Deserialize<SweepDefinition>(json, Json.Options)!;

    public SearchSpace ParseSpace()
    {
        var errors = new ValidationErrors();
        using var doc = JsonDocument.Parse(Space.ToJsonString());
        return SearchSpace.Parse(doc.RootElement, "space", errors) ?? throw new InvalidOperationException("stored space no longer parses");
    }

    /// <summary>The run spec of a trial: the base with the trial's values at their paths.</summary>
    public JsonObject TrialSpec(SearchSpace space, JsonObject point) => space.Apply(Base, point, out _);
}
