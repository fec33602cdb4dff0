using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Who this process is when it holds a lease: <c>{node}/{pid}.{process start, Unix ms}</c>. The node part
/// (<c>Service:NodeName</c>, the machine's name by default) lets a restarted worker find the leases left by its
/// predecessors on the same machine; the process part lets it tell a dead predecessor from a live neighbour (two
/// workers on one machine), so it hands back only what a gone process held, at once, instead of waiting for the
/// lease to lapse. Node names must therefore differ between machines.
/// </summary>
public sealed class ExecutorIdentity
{
    private static readonly TimeSpan StartTimeSlack = TimeSpan.FromSeconds(1);

    public ExecutorIdentity(IOptions<ServiceNodeOptions> options)
    {
        Node = options.Value.EffectiveNodeName;
        using var self = Process.GetCurrentProcess();
        Owner = $"{Node}/{self.Id}.{StartMs(self).ToString(CultureInfo.InvariantCulture)}";
    }

    public string Node { get; }
    public string Owner { get; }
    public string NodePrefix => $"{Node}/";

    /// <summary>True when <paramref name="owner"/> names a process of this node that is no longer running.</summary>
    public bool IsGonePredecessor(string owner)
    {
        if (!owner.StartsWith(NodePrefix, StringComparison.Ordinal) || owner == Owner) return false;
        var parts = owner[NodePrefix.Length..].Split('.');
        // A lease written before identities named processes: its process cannot be checked, and one service per
        // machine was the rule then, so it is a predecessor's.
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var started)) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return Math.Abs(StartMs(process) - started) > StartTimeSlack.TotalMilliseconds; // the pid was reused
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return true; // no such process
        }
    }

    private static long StartMs(Process process) => new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();
}
