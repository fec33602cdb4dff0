namespace TrainingService.Api.Infrastructure;

/// <summary><c>Service</c>: what this node does in a fleet.</summary>
public sealed class ServiceNodeOptions
{
    public const string Section = "Service";

    /// <summary><c>all</c> (default: one process does everything), <c>api</c> (HTTP only: submission, queries, event
    /// streams, predictions, dashboard; trains nothing) or <c>worker</c> (trains: job server, recovery and tuning
    /// coordinators; serves only <c>/health</c>). <c>api</c> and <c>worker</c> need <c>Database:Provider=postgres</c>.</summary>
    public string Role { get; set; } = "all";

    /// <summary>This node's name in leases and logs; the machine's name by default. Two nodes on one machine may
    /// share it: a lease also names the process, and a restarted node checks its predecessor is gone.</summary>
    public string? NodeName { get; set; }

    /// <summary><see cref="NodeName"/>, or the machine's name.</summary>
    public string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? Environment.MachineName : NodeName.Trim();
}

/// <summary>The parsed <see cref="ServiceNodeOptions.Role"/>.</summary>
public sealed record ServiceRole(bool ServesApi, bool Trains)
{
    public const string All = "all";
    public const string Api = "api";
    public const string Worker = "worker";

    public string Name => (ServesApi, Trains) switch { (true, true) => All, (true, false) => Api, _ => Worker };

    /// <summary>The role this configuration asks for; a <see cref="StartupFailure"/> when it cannot work.</summary>
    public static ServiceRole Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(ServiceNodeOptions.Section).Get<ServiceNodeOptions>() ?? new();
        var role = (options.Role ?? All).Trim().ToLowerInvariant() switch
        {
            All => new ServiceRole(true, true),
            Api => new ServiceRole(true, false),
            Worker => new ServiceRole(false, true),
            _ => throw new StartupFailure($"Service:Role '{options.Role}' is not a role; use '{All}' (the default), '{Api}' or '{Worker}'."),
        };
        // SQLite is a file on one machine, and what nodes tell each other (cancel, new epochs, evictions) only crosses
        // processes through PostgreSQL: a split fleet on SQLite would be quietly wrong, so it is refused.
        if (role.Name != All && !DatabaseOptions.Read(configuration).IsPostgres)
            throw new StartupFailure($"Service:Role '{role.Name}' needs Database:Provider 'postgres' (with ConnectionStrings:Postgres): " +
                "SQLite is one file on one machine, so with SQLite one node runs with the role 'all'.");
        return role;
    }
}
