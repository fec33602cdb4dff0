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
        builder.Services.Configure<DatabaseOptions>(builder.Configuration.GetSection(DatabaseOptions.Section));
        builder.Services.Configure<TrainingOptions>(builder.Configuration.GetSection(TrainingOptions.Section));
        builder.Services.Configure<PredictionOptions>(builder.Configuration.GetSection(PredictionOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Services.AddDbContextFactory<TrainingDbContext>((sp, options) =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var connection = database.ConnectionString ?? DatabaseSetup.SqliteConnectionString(storage.Root);
            DatabaseSetup.Configure(options, database.Provider, connection, database.BusyTimeoutMs);
        });
        return builder;
    }

    /// <summary>Creates the storage root and brings the database schema up to date before anything uses it.</summary>
    public static async Task PrepareStorageAsync(this WebApplication app)
    {
        var storage = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        Directory.CreateDirectory(Path.GetFullPath(storage.Root));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContextAsync();
        await DatabaseSetup.MigrateAsync(db, CancellationToken.None);
    }
}
