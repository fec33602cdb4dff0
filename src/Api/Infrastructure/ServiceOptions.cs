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

    /// <summary>libtorch intra-op threads; 0 = chosen per run by timing its steps at 1 thread and at its share of the
    /// cores (the cores divided by <see cref="MaxConcurrentRuns"/>), or that share when <see cref="MeasureThreads"/> is off.</summary>
    public int TorchThreads { get; set; }

    /// <summary>Choose each run's thread count by timing its steps at 1 thread and at its share of the cores, again 5 s
    /// after the first choice and every 30 s of training (see <see cref="ThreadPolicy"/>). On by default: on a 2-core
    /// AVX2 machine the MLP ran 2.3× slower at 2 threads and the CNN and LSTM 1.5× slower at 1, so no fixed count suits
    /// every model.</summary>
    public bool MeasureThreads { get; set; } = true;

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
    public int MaxArchiveEntries { get; set; } = new EngineLimits().MaxArchiveEntries;
    public long MaxArchiveJsonBytes { get; set; } = new EngineLimits().MaxArchiveJsonBytes;

    public EngineLimits Limits => new()
    {
        MaxParameters = MaxParameters,
        MaxLayers = MaxLayers,
        MaxEpochs = MaxEpochs,
        MaxBatchSize = MaxBatchSize,
        MaxArchiveEntries = MaxArchiveEntries,
        MaxArchiveJsonBytes = MaxArchiveJsonBytes,
    };

    /// <summary>The thread policy of each run: the configured count, its share of the cores, or measured up to that share.</summary>
    public ThreadPolicy ThreadPolicy => TorchThreads <= 0 && MeasureThreads
        ? ThreadPolicy.Measured(Environment.ProcessorCount / Math.Max(1, MaxConcurrentRuns))
        : ThreadPolicy.Configured(EffectiveTorchThreads);

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

    /// <summary>How long a model name's resolution to its runs is reused, in seconds: a run that succeeds on another
    /// node is served under its name at most this much later. 0 queries on every request.</summary>
    public double NameCacheSeconds { get; set; } = 2;

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
