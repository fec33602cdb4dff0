namespace TrainingService.Persistence.Runs;

/// <summary>Lifecycle of a run. Stored as lower-case text so the table reads the way the API answers.</summary>
public enum RunStatus
{
    Queued,
    Running,
    Succeeded,
    /// <summary>Ended before its planned epochs by the sweep it is a trial of (early stopping at a rung); its recorded
    /// epochs are its result.</summary>
    Stopped,
    Failed,
    Cancelled,
}

public static class RunStatusExtensions
{
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Succeeded or RunStatus.Stopped or RunStatus.Failed or RunStatus.Cancelled;

    public static string ToWire(this RunStatus status) => status.ToString().ToLowerInvariant();

    public static bool TryParseWire(string? text, out RunStatus status) =>
        Enum.TryParse(text, ignoreCase: true, out status) && Enum.IsDefined(status) && !int.TryParse(text, out _);
}
