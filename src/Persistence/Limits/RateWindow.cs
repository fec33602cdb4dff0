namespace TrainingService.Persistence.Limits;

/// <summary>
/// Permits handed out in one fixed rate-limit window to one owner under one policy, shared by every api node so a
/// limit holds for the cluster rather than per node. Written only by an atomic UPSERT (see the api's
/// <c>SharedRateWindows</c>); windows older than the previous one are deleted, so the table holds at most two rows per
/// owner and policy.
/// </summary>
public sealed class RateWindow
{
    public required string Owner { get; set; }

    /// <summary>The rate-limit policy (<c>submissions</c>, <c>predictions</c>).</summary>
    public required string Policy { get; set; }

    /// <summary>The window's start, in seconds since the Unix epoch (a multiple of the window length); a plain number
    /// so raw SQL on either provider compares it without converters.</summary>
    public long WindowStart { get; set; }

    /// <summary>Permits nodes have claimed in this window. It may pass the limit (a node asking for a chunk when few
    /// are left), but what a node may use is clamped to the limit, so the excess is never granted.</summary>
    public long Claimed { get; set; }
}
