using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace TrainingService.Persistence.Runs;

/// <summary>
/// Weights and checkpoints moved as streams, so a large model is not held as extra whole copies on its way in or out:
/// on SQLite through incremental blob I/O (<see cref="SqliteBlob"/>: the blob is reserved with <c>zeroblob</c> and
/// filled in place, instead of SQLite copying the bound array), on PostgreSQL as a <c>bytea</c> parameter that Npgsql
/// sends in chunks, and read with <see cref="CommandBehavior.SequentialAccess"/> as it arrives.
/// Writes join the context's current transaction.
/// </summary>
public static class WeightsStore
{
    /// <summary>Replaces the run's <paramref name="kind"/> weights with <paramref name="data"/>.</summary>
    public static void Replace(TrainingDbContext db, Guid runId, WeightsKind kind, int epoch, byte[] data, DateTimeOffset now)
    {
        var k = Wire(kind);
        db.Database.ExecuteSql($"DELETE FROM run_weights WHERE \"RunId\" = {runId} AND \"Kind\" = {k}");
        if (!db.Database.IsSqlite())
        {
            db.Database.ExecuteSql($"INSERT INTO run_weights (\"RunId\", \"Kind\", \"Epoch\", \"Data\", \"CreatedAt\") VALUES ({runId}, {k}, {epoch}, {data}, {now.UtcTicks})");
            return;
        }
        db.Database.OpenConnection();
        try
        {
            db.Database.ExecuteSql($"INSERT INTO run_weights (\"RunId\", \"Kind\", \"Epoch\", \"Data\", \"CreatedAt\") VALUES ({runId}, {k}, {epoch}, zeroblob({data.LongLength}), {now.UtcTicks})");
            var rowid = RowId(db, runId, k)!.Value.RowId;
            using var blob = new SqliteBlob((SqliteConnection)db.Database.GetDbConnection(), "run_weights", "Data", rowid);
            blob.Write(data);
        }
        finally
        {
            db.Database.CloseConnection();
        }
    }

    /// <summary>Copies a run's weights to another run (or kind) inside the database, without reading them out.</summary>
    public static int Copy(TrainingDbContext db, Guid fromRun, WeightsKind fromKind, Guid toRun, WeightsKind toKind, DateTimeOffset now)
    {
        var (from, to) = (Wire(fromKind), Wire(toKind));
        db.Database.ExecuteSql($"DELETE FROM run_weights WHERE \"RunId\" = {toRun} AND \"Kind\" = {to}");
        return db.Database.ExecuteSql($"INSERT INTO run_weights (\"RunId\", \"Kind\", \"Epoch\", \"Data\", \"CreatedAt\") SELECT {toRun}, {to}, \"Epoch\", \"Data\", {now.UtcTicks} FROM run_weights WHERE \"RunId\" = {fromRun} AND \"Kind\" = {from}");
    }

    /// <summary>
    /// The run's <paramref name="kind"/> weights as a stream read from the database as it is consumed, or null when
    /// there are none. The stream holds the context's connection until it is disposed: dispose it before the context
    /// runs anything else.
    /// </summary>
    public static WeightsStream? OpenRead(TrainingDbContext db, Guid runId, WeightsKind kind)
    {
        var k = Wire(kind);
        db.Database.OpenConnection();
        try
        {
            if (db.Database.IsSqlite())
            {
                if (RowId(db, runId, k) is not { } row) return Closed(db);
                var blob = new SqliteBlob((SqliteConnection)db.Database.GetDbConnection(), "run_weights", "Data", row.RowId, readOnly: true);
                return new WeightsStream(blob, row.Epoch, blob.Length, [blob], () => db.Database.CloseConnection());
            }
            var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            command.CommandText = "SELECT \"Epoch\", octet_length(\"Data\"), \"Data\" FROM run_weights WHERE \"RunId\" = @run AND \"Kind\" = @kind";
            command.Parameters.Add(new NpgsqlParameter("run", runId));
            command.Parameters.Add(new NpgsqlParameter("kind", k));
            var reader = command.ExecuteReader(CommandBehavior.SequentialAccess);
            if (!reader.Read())
            {
                reader.Dispose();
                command.Dispose();
                return Closed(db);
            }
            var epoch = reader.GetInt32(0);
            long length = reader.GetInt32(1);
            var data = reader.GetStream(2);
            return new WeightsStream(data, epoch, length, [data, reader, command], () => db.Database.CloseConnection());
        }
        catch
        {
            db.Database.CloseConnection();
            throw;
        }
    }

    private static WeightsStream? Closed(TrainingDbContext db)
    {
        db.Database.CloseConnection();
        return null;
    }

    private static (long RowId, int Epoch)? RowId(TrainingDbContext db, Guid runId, string kind) =>
        db.Database.SqlQuery<RowEpoch>($"SELECT rowid AS \"RowId\", \"Epoch\" FROM run_weights WHERE \"RunId\" = {runId} AND \"Kind\" = {kind}")
            .AsEnumerable().Select(r => ((long RowId, int Epoch)?)(r.RowId, r.Epoch)).SingleOrDefault();

    private sealed record RowEpoch(long RowId, int Epoch);

    /// <summary>The stored form of a kind, as <c>RunWeightsConfiguration</c> converts it.</summary>
    private static string Wire(WeightsKind kind) => kind.ToString().ToLowerInvariant();
}

/// <summary>Stored weights being read: the archive's bytes, the epoch they were taken after and their length.
/// Disposing it releases the reader and the connection.</summary>
public sealed class WeightsStream(Stream inner, int epoch, long length, IDisposable[] owned, Action close) : Stream
{
    public int Epoch => epoch;

    public override long Length => length;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => inner.Read(buffer);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var o in owned) o.Dispose();
            close();
        }
        base.Dispose(disposing);
    }
}
