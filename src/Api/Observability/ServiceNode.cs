namespace TrainingService.Api.Observability;

/// <summary>This process as metrics, logs and <c>/health</c> name it: its node name and its role.</summary>
public sealed record ServiceNode(string Name, string Role)
{
    public const string All = "all";
    public const string Api = "api";
    public const string Worker = "worker";

    // Service:Role and Service:NodeName are the scale-out settings of issue 10; read directly until their options class lands.
    public static ServiceNode From(IConfiguration configuration) => new(
        configuration["Service:NodeName"] is { Length: > 0 } name ? name : Environment.MachineName,
        (configuration["Service:Role"] is { Length: > 0 } role ? role : All).ToLowerInvariant());

    /// <summary>Worker and all-in-one nodes run the job server; api nodes only submit to it.</summary>
    public bool RunsJobs => Role is All or Worker;
}
