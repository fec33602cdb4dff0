using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace TrainingService.Persistence;

/// <summary>How the service reaches its database. Only SQLite exists today; the provider is a setting so that a
/// server database can be added beside it without touching callers.</summary>
public static class DatabaseSetup
{
    public const string SqliteProvider = "sqlite";

    /// <summary>Connection string for the runs database under <paramref name="storageRoot"/>.</summary>
    public static string SqliteConnectionString(string storageRoot) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(Path.GetFullPath(storageRoot), "training.db"),
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    public static void Configure(DbContextOptionsBuilder options, string provider, string connectionString, int busyTimeoutMs = 5000)
    {
        switch (provider.ToLowerInvariant())
        {
            case SqliteProvider:
                options.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(TrainingDbContext).Assembly.FullName))
                       .AddInterceptors(new SqlitePragmas(busyTimeoutMs));
                break;
            default:
                throw new InvalidOperationException($"Database:Provider '{provider}' is not supported; use '{SqliteProvider}'.");
        }
    }

    /// <summary>Applies pending migrations and switches SQLite to write-ahead logging (a property of the file,
    /// so once is enough), letting readers proceed while a job writes an epoch.</summary>
    public static async Task MigrateAsync(TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
        {
            var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            var dir = Path.GetDirectoryName(Path.GetFullPath(file));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        }
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken);
    }
}
