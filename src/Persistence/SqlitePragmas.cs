using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace TrainingService.Persistence;

/// <summary>Sets the per-connection pragmas SQLite forgets between connections: how long to wait for a writer
/// (the API, the job and the recovery loop write concurrently) and foreign keys (for cascading deletes).</summary>
public sealed class SqlitePragmas(int busyTimeoutMs) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout = {busyTimeoutMs}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
        command.ExecuteNonQuery();
    }
}
