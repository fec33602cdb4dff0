using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Persistence;

namespace TrainingService.Api.Tests;

/// <summary>The real service over a fresh storage root (real SQLite files, real Hangfire server), deleted after.</summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public ServiceFactory(params (string Key, string Value)[] settings)
    {
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
        foreach (var (k, v) in settings) _settings[k] = v;
    }

    public string Root { get; }

    public string DatabasePath => Path.Combine(Root, "training.db");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
    }

    public TrainingDbContext NewDbContext() =>
        Services.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContext();

    /// <summary>Rows per table, read straight from the file (not through the app).</summary>
    public (long Runs, long Metrics, long Weights) CountRows()
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        long Count(string table)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {table}";
            return (long)command.ExecuteScalar()!;
        }
        return (Count("runs"), Count("epoch_metrics"), Count("run_weights"));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
