namespace TrainingService.Api.Tuning;

/// <summary><c>Tuning</c>: cross-validation and sweeps.</summary>
public sealed class TuningOptions
{
    public const string Section = "Tuning";

    /// <summary>How often the coordinators look at active cross-validation runs and sweeps (start folds and trials,
    /// record aggregates, finish).</summary>
    public double CoordinatorIntervalSeconds { get; set; } = 0.25;

    /// <summary>Largest number of trials one sweep may ask for.</summary>
    public int MaxTrials { get; set; } = 200;
}
