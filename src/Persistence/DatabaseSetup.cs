using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TrainingService.Persistence.Postgres;

namespace TrainingService.Persistence;

/// <summary>How the service reaches its database: an embedded SQLite file (one machine) or PostgreSQL (any number
/// of api and worker nodes sharing it). Callers only ever see <see cref="TrainingDbContext"/>.</summary>
public static class DatabaseSetup
{
    public const string SqliteProvider = "sqlite";
    public const string PostgresProvider = "postgres";

    /// <summary>Any number, the same on every node: the PostgreSQL advisory lock that serialises start-up migrations.</summary>
    private const long MigrationLockKey = 0x7472_6169_6e69_6e67; // "training"

    /// <summary>Connection string for the runs database under <paramref name="storageRoot"/>.</summary>
    public static string SqliteConnectionString(string storageRoot) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(Path.GetFullPath(storageRoot), "training.db"),
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>Why this configuration cannot work, or null when it can: checked before anything starts.</summary>
    public static string? Problem(string? provider, string? postgresConnectionString) =>
        (provider ?? "").ToLowerInvariant() switch
        {
            SqliteProvider => null,
            PostgresProvider when string.IsNullOrWhiteSpace(postgresConnectionString) =>
                "Database:Provider is 'postgres' but ConnectionStrings:Postgres is not set " +
                "(environment: ConnectionStrings__Postgres, e.g. 'Host=db;Database=training;Username=training;Password=…').",
            PostgresProvider => ParsePostgres(postgresConnectionString!),
            _ => $"Database:Provider '{provider}' is not supported; use '{SqliteProvider}' (the default) or '{PostgresProvider}'.",
        };

    private static string? ParsePostgres(string connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException e)
        {
            return $"ConnectionStrings:Postgres is not a valid PostgreSQL connection string: {e.Message}";
        }
    }

    /// <summary>Registers <see cref="IDbContextFactory{TrainingDbContext}"/> for the provider (each request, job and
    /// loop gets its own context).</summary>
    public static IServiceCollection AddTrainingDatabase(this IServiceCollection services, string provider, Func<IServiceProvider, string> connectionString, int busyTimeoutMs)
    {
        if (provider.Equals(PostgresProvider, StringComparison.OrdinalIgnoreCase))
        {
            services.AddDbContextFactory<PostgresTrainingDbContext>((sp, o) => ConfigurePostgres(o, connectionString(sp)));
            services.AddSingleton<IDbContextFactory<TrainingDbContext>>(sp =>
                new UpcastFactory<PostgresTrainingDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresTrainingDbContext>>()));
            // Handlers and jobs that take the context itself get the provider's one, scoped as AddDbContextFactory does.
            services.AddScoped<TrainingDbContext>(sp => sp.GetRequiredService<PostgresTrainingDbContext>());
        }
        else
        {
            services.AddDbContextFactory<TrainingDbContext>((sp, o) => ConfigureSqlite(o, connectionString(sp), busyTimeoutMs));
        }
        return services;
    }

    public static void ConfigureSqlite(DbContextOptionsBuilder options, string connectionString, int busyTimeoutMs = 5000) =>
        options.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(TrainingDbContext).Assembly.FullName))
               .AddInterceptors(new SqlitePragmas(busyTimeoutMs));

    public static void ConfigurePostgres(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, o => o.MigrationsAssembly(typeof(TrainingDbContext).Assembly.FullName));

    /// <summary>True when the database refused a row because a unique key already holds its value.</summary>
    public static bool IsUniqueViolation(DbUpdateException e) => e.InnerException switch
    {
        SqliteException s => s.SqliteErrorCode == 19,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>
    /// Brings the schema up to date. On PostgreSQL several nodes may start at once: the database is created if
    /// missing, and migrations run under a session advisory lock, so exactly one node applies each migration and the
    /// others find them applied. <paramref name="alsoUnderLock"/> runs inside the same lock (other schemas that
    /// must be installed once, such as the job store's). SQLite is a local file with one writer; it switches to
    /// write-ahead logging (a property of the file, so once is enough), letting readers proceed while a job writes.
    /// </summary>
    public static async Task MigrateAsync(TrainingDbContext db, Func<DbConnection, CancellationToken, Task>? alsoUnderLock, CancellationToken ct)
    {
        if (db.Database.IsSqlite())
        {
            var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            var dir = Path.GetDirectoryName(Path.GetFullPath(file));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            await db.Database.MigrateAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", ct);
            if (alsoUnderLock is not null) await alsoUnderLock(db.Database.GetDbConnection(), ct);
            return;
        }

        await OpenPostgresAsync(db, ct);
        try
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({MigrationLockKey})", ct);
            try
            {
                await db.Database.MigrateAsync(ct);
                if (alsoUnderLock is not null) await alsoUnderLock(db.Database.GetDbConnection(), ct);
            }
            finally
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Makes the caller the only node doing <paramref name="work"/> until the returned handle is disposed, or
    /// returns null when another node holds it. On PostgreSQL a session advisory lock: a node that dies loses it
    /// with its connection, so another takes over at its next try. On SQLite there is only one node.
    /// </summary>
    public static async Task<IAsyncDisposable?> TryExclusiveAsync(IDbContextFactory<TrainingDbContext> contexts, string work, CancellationToken ct)
    {
        var db = await contexts.CreateDbContextAsync(ct);
        if (!db.Database.IsNpgsql()) return db;
        try
        {
            await db.Database.OpenConnectionAsync(ct);
            var held = await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({ExclusiveWorkClass}, hashtext({work})) AS \"Value\"").SingleAsync(ct);
            if (held) return new Exclusive(db, work);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
        await db.DisposeAsync();
        return null;
    }

    private const int ExclusiveWorkClass = 0x7472;

    private sealed class Exclusive(TrainingDbContext db, string work) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({ExclusiveWorkClass}, hashtext({work}))");
            }
            finally
            {
                await db.DisposeAsync(); // closing the session releases the lock anyway
            }
        }
    }

    /// <summary>Opens the context's connection, creating the database when the server lacks it (a second node
    /// racing to create it finds it created). An unreachable server becomes a <see cref="DatabaseUnavailableException"/>.</summary>
    private static async Task OpenPostgresAsync(TrainingDbContext db, CancellationToken ct)
    {
        var target = Describe(db.Database.GetConnectionString());
        try
        {
            await db.Database.OpenConnectionAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            try
            {
                await db.GetService<IRelationalDatabaseCreator>().CreateAsync(ct);
            }
            catch (PostgresException c) when (c.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
            {
            }
            await db.Database.OpenConnectionAsync(ct);
        }
        // Npgsql's own error, or EF's wrapper around it: either way the server could not be reached.
        catch (Exception e) when (e is not PostgresException and not OperationCanceledException)
        {
            throw new DatabaseUnavailableException($"PostgreSQL at {target} is unreachable: {e.Message}", e);
        }
        catch (PostgresException e)
        {
            throw new DatabaseUnavailableException($"PostgreSQL at {target} refused the connection: {e.MessageText} ({e.SqlState})", e);
        }
    }

    /// <summary>Host, port and database of a connection string, never its password.</summary>
    public static string Describe(string? connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{b.Host}:{b.Port}/{b.Database}";
    }

    private sealed class UpcastFactory<T>(IDbContextFactory<T> inner) : IDbContextFactory<TrainingDbContext> where T : TrainingDbContext
    {
        public TrainingDbContext CreateDbContext() => inner.CreateDbContext();
    }
}

/// <summary>The database named in the configuration cannot be reached; the node must not start.</summary>
public sealed class DatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);
