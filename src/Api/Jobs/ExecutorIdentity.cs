namespace TrainingService.Api.Jobs;

/// <summary>Who this process is when it holds a lease: <c>{machine}/{boot id}</c>. A new boot id per process
/// lets a restarted service recognise leases its dead predecessor on the same machine left behind.</summary>
public sealed class ExecutorIdentity
{
    public string Machine { get; } = Environment.MachineName;
    public string BootId { get; } = Guid.NewGuid().ToString("N")[..12];
    public string Owner => $"{Machine}/{BootId}";
    public string MachinePrefix => $"{Machine}/";
}
