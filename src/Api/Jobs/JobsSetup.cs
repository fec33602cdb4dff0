using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage.SQLite;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Security;

namespace TrainingService.Api.Jobs;

public static class JobsSetup
{
    /// <summary>Hangfire on its own SQLite file under <c>Storage:Root</c>, one worker per allowed concurrent run,
    /// polling often enough that a submitted run starts within a second.</summary>
    public static WebApplicationBuilder AddTrainingJobs(this WebApplicationBuilder builder)
    {
        var storage = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new();
        var training = builder.Configuration.GetSection(TrainingOptions.Section).Get<TrainingOptions>() ?? new();
        var root = Path.GetFullPath(storage.Root);
        Directory.CreateDirectory(root);

        builder.Services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseSQLiteStorage(Path.Combine(root, "jobs.db"), new SQLiteStorageOptions
            {
                QueuePollInterval = TimeSpan.FromMilliseconds(200),
            }));
        builder.Services.AddHangfireServer(o =>
        {
            o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
            o.Queues = [RunQueue.QueueName];
            o.WorkerCount = Math.Max(1, training.MaxConcurrentRuns);
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });

        builder.Services.AddSingleton<ExecutorIdentity>();
        builder.Services.AddSingleton<RunEvents>();
        builder.Services.AddSingleton<RunCancellations>();
        builder.Services.AddTransient<TrainRunJob>();
        builder.Services.AddSingleton<RunQueue>(sp => new RunQueue(sp.GetRequiredService<IBackgroundJobClient>()));
        builder.Services.AddHostedService<RunRecoveryService>();
        return builder;
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
