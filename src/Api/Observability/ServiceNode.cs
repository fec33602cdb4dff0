using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Observability;

/// <summary>This process as metrics, logs and <c>/health</c> name it: its node name and its role.</summary>
public sealed record ServiceNode(string Name, string Role)
{
    /// <summary>From the <c>Service</c> section, parsed as start-up parses it (<see cref="ServiceRole.Read"/>).</summary>
    public static ServiceNode From(IConfiguration configuration) => new(
        (configuration.GetSection(ServiceNodeOptions.Section).Get<ServiceNodeOptions>() ?? new()).EffectiveNodeName,
        ServiceRole.Read(configuration).Name);

    /// <summary>Worker and all-in-one nodes run the job server; api nodes only submit to it.</summary>
    public bool RunsJobs => Role is ServiceRole.All or ServiceRole.Worker;
}
