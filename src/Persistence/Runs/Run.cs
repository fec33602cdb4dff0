namespace TrainingService.Persistence.Runs;

/// <summary>
/// One training run. This row is the truth about the run: whoever holds its lease (<see cref="LeaseOwner"/> until
/// <see cref="LeaseExpiresAt"/>) is its only executor. Large values (weights) live in <see cref="RunWeights"/> so
/// that listing runs never reads them.
/// </summary>
public sealed class Run
{
    public Guid Id { get; set; }
    public string? Name { get; set; }
    public RunStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int EpochsCompleted { get; set; }
    public int EpochsPlanned { get; set; }

    /// <summary>The submitted request (dataset, model, compile, fit) as JSON, as it was accepted.</summary>
    public required string SpecJson { get; set; }

    /// <summary>The layer table computed at submission (layers, output shapes, parameter counts) as JSON.</summary>
    public string? SummaryJson { get; set; }

    /// <summary>Final test-set metrics as a JSON object (<c>{"loss":0.31,"accuracy":0.89}</c>).</summary>
    public string? MetricsJson { get; set; }

    /// <summary>For a classifier: the test set's confusion matrix, per-class precision/recall/F1 and a few
    /// misclassified examples, as JSON (written with the final metrics).</summary>
    public string? EvaluationJson { get; set; }

    /// <summary>What the data preparation learned from the training split, serialised; prediction reuses it.</summary>
    public string? PreprocessingJson { get; set; }

    public int? BestEpoch { get; set; }
    public bool StoppedEarly { get; set; }
    public string? Error { get; set; }

    /// <summary>Set by a cancel request; the executor polls it, so cancellation works across processes.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>Client-chosen key: a retried submission with the same key returns this run.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Hash of the request body submitted with <see cref="IdempotencyKey"/>, to refuse a reused key.</summary>
    public string? RequestHash { get; set; }

    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>How many times an executor has claimed this run (1 = never interrupted).</summary>
    public int Attempts { get; set; }

    // How this run belongs to a cross-validation run or a sweep. Null on an ordinary run.

    /// <summary>What the run is for: null (ordinary), or one of <see cref="Tuning.RunRoles"/>.</summary>
    public string? Role { get; set; }

    /// <summary>The cross-validation run a fold or refit belongs to; the trial a promoted copy was made from.</summary>
    public Guid? ParentRunId { get; set; }

    /// <summary>0-based fold this run holds out (role <c>fold</c>).</summary>
    public int? FoldIndex { get; set; }

    /// <summary>The sweep a trial (or the promoted copy of its best trial) belongs to.</summary>
    public Guid? SweepId { get; set; }
}
