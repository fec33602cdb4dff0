using TrainingService.Training.Engine;

namespace TrainingService.Api.Infrastructure;

/// <summary><c>Storage</c>: where every piece of state lives (databases, uploads).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Directory holding <c>training.db</c>, <c>jobs.db</c> and uploads. Environment: <c>Storage__Root</c>.</summary>
    public string Root { get; set; } = "./data";
}

/// <summary><c>Database</c>: which provider holds runs, metrics, weights, uploads and the job queue.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>sqlite</c> (default: files under <c>Storage:Root</c>, one machine) or <c>postgres</c>
    /// (<c>ConnectionStrings:Postgres</c>; any number of api and worker nodes).</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>SQLite only: overrides the default <c>{Storage:Root}/training.db</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary><c>ConnectionStrings:Postgres</c>, read with the rest so one object says where the data is.</summary>
    public string? PostgresConnectionString { get; set; }

    public bool IsPostgres => Provider.Equals(Persistence.DatabaseSetup.PostgresProvider, StringComparison.OrdinalIgnoreCase);

    /// <summary>The section plus <c>ConnectionStrings:Postgres</c>.</summary>
    public static DatabaseOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<DatabaseOptions>() ?? new();
        options.PostgresConnectionString = configuration.GetConnectionString("Postgres");
        return options;
    }

    public int BusyTimeoutMs { get; set; } = 5000;
}

/// <summary><c>Training</c>: how runs are executed.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Training";

    /// <summary>Runs trained at the same time (Hangfire workers on the training queue).</summary>
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>libtorch intra-op threads; 0 = the cores divided by <see cref="MaxConcurrentRuns"/>.</summary>
    public int TorchThreads { get; set; }

    /// <summary>How long an executor's claim on a run lasts without renewal. A run whose lease lapses (its process
    /// died) is queued again by the recovery loop, and resumes from its last checkpoint.</summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How often the recovery loop looks for runs whose executor is gone.</summary>
    public double RecoveryIntervalSeconds { get; set; } = 5;

    /// <summary>How often a running job looks for a cancel request written by another process.</summary>
    public double CancelPollSeconds { get; set; } = 1;

    public long MaxParameters { get; set; } = new EngineLimits().MaxParameters;
    public int MaxLayers { get; set; } = new EngineLimits().MaxLayers;
    public int MaxEpochs { get; set; } = new EngineLimits().MaxEpochs;
    public int MaxBatchSize { get; set; } = new EngineLimits().MaxBatchSize;

    public EngineLimits Limits => new()
    {
        MaxParameters = MaxParameters,
        MaxLayers = MaxLayers,
        MaxEpochs = MaxEpochs,
        MaxBatchSize = MaxBatchSize,
    };

    public int EffectiveTorchThreads =>
        TorchThreads > 0 ? TorchThreads : Math.Max(1, Environment.ProcessorCount / Math.Max(1, MaxConcurrentRuns));
}

/// <summary><c>Prediction</c>: serving trained models.</summary>
public sealed class PredictionOptions
{
    public const string Section = "Prediction";

    /// <summary>Restored models kept in memory (least recently used is dropped first).</summary>
    public int CacheSize { get; set; } = 8;

    /// <summary>Memory the weights of restored models may take together, in MiB (least recently used is dropped
    /// first; the model just loaded always stays).</summary>
    public double CacheMegabytes { get; set; } = 1024;

    /// <summary>Prediction requests computed at once; the rest wait, so inference cannot starve training.</summary>
    public int MaxConcurrency { get; set; } = 2;

    /// <summary>Largest number of instances in one request.</summary>
    public int MaxInstances { get; set; } = 1024;

    /// <summary>Stack concurrent requests for one model into one forward pass (as TorchServe and Triton batch).</summary>
    public bool DynamicBatching { get; set; }

    /// <summary>With <see cref="DynamicBatching"/>: most requests in one forward pass.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>With <see cref="DynamicBatching"/>: longest a batch waits for more requests after its first one. 0 (the
    /// default) takes only what is already queued; requests still gather while the previous batch computes. A
    /// timed wait costs more than it gains on a small machine: .NET timers fire milliseconds late under load.</summary>
    public double MaxBatchWaitMs { get; set; }
}

/// <summary><c>Hangfire</c>: the job dashboard.</summary>
public sealed class JobsDashboardOptions
{
    public const string Section = "Hangfire";

    /// <summary>Serve <c>/hangfire</c> to remote clients too (default: local requests only).</summary>
    public bool DashboardAllowRemote { get; set; }
}
