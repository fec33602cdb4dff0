using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Persistence;

namespace TrainingService.Api.Infrastructure;

public static class StorageSetup
{
    /// <summary>Options, the runs database (a context factory; each request, job and loop gets its own context).</summary>
    public static WebApplicationBuilder AddServiceStorage(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<StorageOptions>(builder.Configuration.GetSection(StorageOptions.Section));
        var database = DatabaseOptions.Read(builder.Configuration);
        if (DatabaseSetup.Problem(database.Provider, database.PostgresConnectionString) is { } problem) throw new StartupFailure(problem);
        builder.Services.Configure<DatabaseOptions>(o =>
        {
            builder.Configuration.GetSection(DatabaseOptions.Section).Bind(o);
            o.PostgresConnectionString = database.PostgresConnectionString;
        });
        builder.Services.Configure<TrainingOptions>(builder.Configuration.GetSection(TrainingOptions.Section));
        builder.Services.Configure<PredictionOptions>(builder.Configuration.GetSection(PredictionOptions.Section));
        builder.Services.Configure<ServiceNodeOptions>(builder.Configuration.GetSection(ServiceNodeOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Services.AddTrainingDatabase(database.Provider, sp => database.IsPostgres
            ? database.PostgresConnectionString!
            : database.ConnectionString ?? DatabaseSetup.SqliteConnectionString(sp.GetRequiredService<IOptions<StorageOptions>>().Value.Root),
            database.BusyTimeoutMs);
        return builder;
    }

    /// <summary>Creates the storage root and brings the database schema (and the job store's, under the same
    /// migration lock) up to date before anything uses it. An unreachable database stops the node here, before it
    /// listens or takes a job.</summary>
    public static async Task PrepareStorageAsync(this WebApplication app)
    {
        var storage = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        Directory.CreateDirectory(Path.GetFullPath(storage.Root));
        // Resolving the job store first applies Hangfire's configuration (its log provider among it) before its schema
        // installer logs anything; with PrepareSchemaIfNecessary off, this touches no database.
        _ = app.Services.GetRequiredService<Hangfire.JobStorage>();
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContextAsync();
        try
        {
            await DatabaseSetup.MigrateAsync(db, Jobs.JobsSetup.InstallJobStoreSchema, CancellationToken.None);
        }
        catch (DatabaseUnavailableException e)
        {
            throw new StartupFailure(e.Message, e);
        }
    }
}
