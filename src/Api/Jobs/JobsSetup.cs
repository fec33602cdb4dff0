using System.Data.Common;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Npgsql;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Security;

namespace TrainingService.Api.Jobs;

public static class JobsSetup
{
    /// <summary>Hangfire's job store in the chosen database's kind: its own SQLite file under <c>Storage:Root</c>, or
    /// the <c>hangfire</c> schema of the shared PostgreSQL database. One worker per allowed concurrent run, picking
    /// a submitted run up within a second.</summary>
    public static WebApplicationBuilder AddTrainingJobs(this WebApplicationBuilder builder)
    {
        var storage = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new();
        var training = builder.Configuration.GetSection(TrainingOptions.Section).Get<TrainingOptions>() ?? new();
        var database = DatabaseOptions.Read(builder.Configuration);
        var root = Path.GetFullPath(storage.Root);
        Directory.CreateDirectory(root);

        builder.Services.AddHangfire(config =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (database.IsPostgres)
                config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(database.PostgresConnectionString), new PostgreSqlStorageOptions
                {
                    // Installed once at start-up under the migration lock (InstallJobStoreSchema), not by every node racing.
                    PrepareSchemaIfNecessary = false,
                    // A fetched job stays invisible while its worker's heartbeat refreshes it, so a long training run is
                    // not handed to a second worker after InvisibilityTimeout; a dead worker's job comes back after it.
                    // Delivery stays at-least-once either way: the runs table's lease decides who trains.
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = TimeSpan.FromMinutes(5),
                    // LISTEN/NOTIFY wakes an idle worker when a job is queued; the poll is the fallback.
                    EnableLongPolling = true,
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                });
            else
                config.UseSQLiteStorage(Path.Combine(root, "jobs.db"), new SQLiteStorageOptions
                {
                    QueuePollInterval = TimeSpan.FromMilliseconds(200),
                });
        });
        if (database.IsPostgres)
        {
            builder.Services.AddSingleton(sp => new PostgresSignals(database.PostgresConnectionString!, sp.GetRequiredService<ILogger<PostgresSignals>>()));
            builder.Services.AddSingleton<IClusterSignals>(sp => sp.GetRequiredService<PostgresSignals>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresSignals>());
        }
        else
        {
            builder.Services.AddSingleton<IClusterSignals, LocalSignals>();
        }
        builder.Services.AddSingleton<ExecutorIdentity>();
        builder.Services.AddSingleton<RunEvents>();
        builder.Services.AddSingleton<RunCancellations>();
        builder.Services.AddTransient<TrainRunJob>();
        builder.Services.AddSingleton<RunQueue>(sp => new RunQueue(sp.GetRequiredService<IBackgroundJobClient>()));
        // An api node only queues jobs; workers (and the default all-in-one node) take and recover them.
        if (!ServiceRole.Read(builder.Configuration).Trains) return builder;

        builder.Services.AddHangfireServer(o =>
        {
            o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
            o.Queues = [RunQueue.QueueName];
            o.WorkerCount = Math.Max(1, training.MaxConcurrentRuns);
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });
        builder.Services.AddHostedService<RunRecoveryService>();
        return builder;
    }

    /// <summary>Creates or upgrades Hangfire's PostgreSQL schema; called under the start-up migration lock.</summary>
    public static Task InstallJobStoreSchema(DbConnection connection, CancellationToken cancellationToken)
    {
        if (connection is NpgsqlConnection npgsql) PostgreSqlObjectsInstaller.Install(npgsql);
        return Task.CompletedTask;
    }

    /// <summary>The dashboard at <c>/hangfire</c>, for admins only, authenticated like every other request (a browser
    /// opens <c>/hangfire?api_key=…</c> once; see <see cref="ApiKeyAuthenticationHandler"/>).</summary>
    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.UseHangfireDashboard(ApiKeyAuthenticationHandler.DashboardPath, new DashboardOptions
        {
            Authorization = [new AdminDashboardAuthorization()],
            DisplayStorageConnectionString = false,
        });
        return app;
    }

    /// <summary>Hangfire answers 401 to an anonymous caller and 403 to an authenticated one without <c>admin</c>.</summary>
    private sealed class AdminDashboardAuthorization : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsAdmin();
    }
}
