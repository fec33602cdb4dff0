using TrainingService.Persistence.Runs;

namespace TrainingService.Persistence.Tuning;

/// <summary>
/// A hyperparameter search. The row holds the accepted request; every trial's parameters are drawn at submission
/// (<see cref="SweepTrial"/>) so the same seed gives the same trials and a restart continues the same search.
/// </summary>
public sealed class Sweep : Security.IOwned
{
    /// <summary>The principal (team) that submitted it; its trials inherit it.</summary>
    public string? Owner { get; set; }

    public Guid Id { get; set; }
    public string? Name { get; set; }
    public RunStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The accepted request (base spec, space, method, limits, objective, seed, scheduler, promote_to).</summary>
    public required string SpecJson { get; set; }

    /// <summary><c>grid</c>, <c>random</c> or <c>asha</c>.</summary>
    public required string Method { get; set; }

    public int MaxConcurrentTrials { get; set; }
    public required string ObjectiveMetric { get; set; }

    /// <summary><c>max</c> or <c>min</c>.</summary>
    public required string ObjectiveMode { get; set; }

    public string? PromoteTo { get; set; }
    public int? BestTrial { get; set; }
    public Guid? PromotedRunId { get; set; }
    public bool CancelRequested { get; set; }
    public string? Error { get; set; }
}
