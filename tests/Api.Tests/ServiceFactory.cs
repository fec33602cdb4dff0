using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TrainingService.Persistence;

namespace TrainingService.Api.Tests;

/// <summary>The real service over a fresh storage root and a fresh database, deleted after: real SQLite files, or,
/// given a <see cref="PostgresServer"/>, a new database on it (and Hangfire's PostgreSQL storage); a real Hangfire
/// server either way.</summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly PostgresServer? _postgres;

    public ServiceFactory(params (string Key, string Value)[] settings) : this(null, settings)
    {
    }

    public ServiceFactory(PostgresServer? postgres, params (string Key, string Value)[] settings)
    {
        _postgres = postgres;
        Root = Path.Combine(Path.GetTempPath(), "ts-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        _settings = new Dictionary<string, string?>
        {
            ["Storage:Root"] = Root,
            ["Training:LeaseSeconds"] = "30",
            ["Training:RecoveryIntervalSeconds"] = "1",
            ["Training:CancelPollSeconds"] = "0.2",
            ["Logging:LogLevel:Default"] = "Warning",
            // Existing tests exercise features, not authentication; SecurityTests switch this back to keys.
            ["Auth:Mode"] = "none",
        };
        if (postgres is not null)
        {
            PostgresConnectionString = postgres.NewDatabase();
            _settings["Database:Provider"] = "postgres";
            _settings["ConnectionStrings:Postgres"] = PostgresConnectionString;
        }
        foreach (var (k, v) in settings) _settings[k] = v;
    }

    /// <summary>Set when the factory runs on PostgreSQL.</summary>
    public string? PostgresConnectionString { get; }

    public string Root { get; }

    public string DatabasePath => Path.Combine(Root, "training.db");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
    }

    public TrainingDbContext NewDbContext() =>
        Services.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContext();

    /// <summary>Rows per table, read straight from the database (not through the app).</summary>
    public (long Runs, long Metrics, long Weights) CountRows() => (Count("runs"), Count("epoch_metrics"), Count("run_weights"));

    /// <summary>Rows in <paramref name="table"/>, read through a connection of its own.</summary>
    public long Count(string table)
    {
        using System.Data.Common.DbConnection connection = PostgresConnectionString is { } pg
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(pg) { Pooling = false }.ToString())
            : new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        if (PostgresConnectionString is not null) _postgres!.Drop(PostgresConnectionString);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
