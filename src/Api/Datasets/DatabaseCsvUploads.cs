using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Limits;
using TrainingService.Persistence;
using TrainingService.Persistence.Datasets;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Datasets;

namespace TrainingService.Api.Datasets;

/// <summary>
/// CSV uploads in the runs database, seen through the request's context: a caller reads and lists only its own
/// uploads (and the shared ones carried over from files), a job reads any. Everything a run needs is in the
/// database, so any worker on any machine can train it.
/// </summary>
public sealed class DatabaseCsvUploads(TrainingDbContext db, TimeProvider clock, Quotas quotas) : ICsvUploadBlobs
{
    public async Task<byte[]?> ReadAsync(string id, CancellationToken ct) =>
        await db.DatasetUploads.AsNoTracking().Where(u => u.Id == id).Select(u => u.Content).FirstOrDefaultAsync(ct);

    /// <summary>Stores the bytes for the caller's owner, unless it already has them. Throws
    /// <see cref="QuotaExceededException"/> (writing nothing) when they would pass the owner's stored-bytes quota,
    /// checked under the owner's lock.</summary>
    public async Task WriteAsync(CsvUpload upload, byte[] bytes, CancellationToken ct)
    {
        var owner = db.CurrentOwner ?? DatasetUpload.SharedOwner;
        if (await db.DatasetUploads.IgnoreQueryFilters().AnyAsync(u => u.Owner == owner && u.Id == upload.Id, ct)) return;
        await using var tx = await quotas.BeginAsync(owner, ct);
        if (await quotas.CheckBytesAsync(owner, bytes.LongLength, ct) is { } refused)
            throw new QuotaExceededException(refused);
        db.DatasetUploads.Add(new DatasetUpload
        {
            Owner = owner,
            Id = upload.Id,
            Bytes = bytes.Length,
            Rows = upload.Rows,
            ColumnsJson = JsonSerializer.Serialize(upload.Columns, Json.Options),
            CreatedAt = clock.GetUtcNow(),
            Content = bytes,
        });
        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The same bytes uploaded twice at once (SQLite serialises the two; PostgreSQL's unique key refuses the
            // second): the other request stored them.
            await tx.RollbackAsync(ct);
            if (!await db.DatasetUploads.IgnoreQueryFilters().AnyAsync(u => u.Owner == owner && u.Id == upload.Id, ct)) throw;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>The uploads this caller sees, newest first, without their contents.</summary>
    public IReadOnlyList<UploadSummary> List() =>
        db.DatasetUploads.AsNoTracking().OrderByDescending(u => u.CreatedAt)
            .Select(u => new UploadSummary(u.Id, u.Bytes, u.Rows, u.ColumnsJson)).ToList()
            .DistinctBy(u => u.Id).ToList();

    public UploadSummary? Find(string id) =>
        db.DatasetUploads.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new UploadSummary(u.Id, u.Bytes, u.Rows, u.ColumnsJson)).FirstOrDefault();

    /// <summary>Deletes the caller's copy (an admin: every copy) unless a queued or running run still needs it.</summary>
    public async Task<UploadDeletion> DeleteAsync(string id, string? owner, bool admin, CancellationToken ct)
    {
        var mine = db.DatasetUploads.Where(u => u.Id == id && (admin || u.Owner == owner));
        if (!await mine.AnyAsync(ct)) return UploadDeletion.NotFound;
        // The id is 64 hex digits: a spec that contains it names this upload (as "csv:<id>" or "upload_id").
        var runs = admin ? db.Runs.IgnoreQueryFilters() : db.Runs;
        var active = await runs.Where(r => (r.Status == RunStatus.Queued || r.Status == RunStatus.Running) && r.SpecJson.Contains(id))
            .Select(r => r.Id).Take(5).ToListAsync(ct);
        if (active.Count > 0) return new UploadDeletion(false, active);
        await mine.ExecuteDeleteAsync(ct);
        return new UploadDeletion(true, []);
    }
}

/// <summary>An upload as listed: no contents, the columns as stored.</summary>
public sealed record UploadSummary(string Id, long Bytes, int Rows, string ColumnsJson);

/// <summary>Deleted, or not found (no runs, not deleted), or still needed by <paramref name="ActiveRuns"/>.</summary>
public sealed record UploadDeletion(bool Deleted, IReadOnlyList<Guid> ActiveRuns)
{
    public static readonly UploadDeletion NotFound = new(false, []);
}
