namespace TrainingService.Api.Limits;

/// <summary>
/// <c>Quotas</c>: what one principal (owner, i.e. team) may hold at once. A submission that would pass a limit is
/// refused with 403 and writes nothing (sweep trials past theirs wait instead). <see cref="Owners"/> overrides any of the three for a named owner
/// (<c>"Quotas": {"Owners": {"vision": {"MaxStoredBytes": 107374182400}}}</c>).
/// </summary>
public sealed class QuotaOptions
{
    public const string Section = "Quotas";

    /// <summary>Queued plus running runs (a cross-validation run counts once; folds and sweep trials are bounded by
    /// their parent's own limits).</summary>
    public int MaxActiveRuns { get; set; } = 20;

    /// <summary>Sweep trials queued or running at once over all the owner's sweeps: the sweep coordinator starts no trial
    /// past it (the trial waits); a sweep whose own <c>max_concurrent_trials</c> is above it is refused.</summary>
    public int MaxConcurrentTrials { get; set; } = 8;

    /// <summary>Bytes of weights, checkpoints and CSV uploads the owner's rows hold in the database.</summary>
    public long MaxStoredBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    public Dictionary<string, OwnerQuota> Owners { get; set; } = new(StringComparer.Ordinal);

    public int ActiveRunsFor(string owner) => Owners.GetValueOrDefault(owner)?.MaxActiveRuns ?? MaxActiveRuns;
    public int ConcurrentTrialsFor(string owner) => Owners.GetValueOrDefault(owner)?.MaxConcurrentTrials ?? MaxConcurrentTrials;
    public long StoredBytesFor(string owner) => Owners.GetValueOrDefault(owner)?.MaxStoredBytes ?? MaxStoredBytes;
}

/// <summary>One owner's overrides; an unset value keeps the default.</summary>
public sealed class OwnerQuota
{
    public int? MaxActiveRuns { get; set; }
    public int? MaxConcurrentTrials { get; set; }
    public long? MaxStoredBytes { get; set; }
}
