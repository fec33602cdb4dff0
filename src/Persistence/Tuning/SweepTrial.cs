namespace TrainingService.Persistence.Tuning;

/// <summary>One point of a sweep's space. Its run is created when a concurrency slot frees up.</summary>
public sealed class SweepTrial
{
    public Guid SweepId { get; set; }

    /// <summary>0-based, in the order the method produced the points.</summary>
    public int Number { get; set; }

    /// <summary>The sampled values keyed by JSON path into the run spec.</summary>
    public required string ParamsJson { get; set; }

    public Guid? RunId { get; set; }

    /// <summary>When its run was created; a trial whose run was later deleted is not started again.</summary>
    public DateTimeOffset? LaunchedAt { get; set; }

    /// <summary>The highest rung (epoch) at which the early-stopping scheduler has judged this trial; its value at
    /// each rung up to this one counts when later trials reach that rung.</summary>
    public int? LastRung { get; set; }

    /// <summary>The rung (epoch) at which the early-stopping scheduler stopped this trial, when it did.</summary>
    public int? StoppedAtEpoch { get; set; }
}
