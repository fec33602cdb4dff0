using Microsoft.EntityFrameworkCore;
using TrainingService.Persistence;
using TrainingService.Persistence.Datasets;
using TrainingService.Training.Datasets;

namespace TrainingService.Api.Datasets;

/// <summary>
/// Uploads used to be files under <c>{Storage:Root}/uploads</c> (or <c>Datasets:UploadFolder</c>). At start-up a node
/// carries any such file into the database as a shared upload (usable by everyone, as files were), so runs and specs
/// that name them keep working after an upgrade. The files are left where they are; importing twice changes nothing.
/// </summary>
public static class UploadFolderImport
{
    /// <summary>Files carried over from older versions were already on disk: importing them counts against no quota.</summary>
    private static Limits.Quotas Unlimited(TrainingDbContext db) =>
        new(db, Microsoft.Extensions.Options.Options.Create(new Limits.QuotaOptions { MaxStoredBytes = long.MaxValue }));

    public static async Task ImportUploadFolderAsync(this WebApplication app)
    {
        var storage = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Infrastructure.StorageOptions>>().Value;
        var folder = app.Configuration["Datasets:UploadFolder"] ?? Path.Combine(Path.GetFullPath(storage.Root), "uploads");
        var files = new CsvUploadFolder(folder);
        var ids = files.Ids().ToList();
        if (ids.Count == 0) return;

        var node = app.Services.GetRequiredService<NodeDatasets>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UploadFolderImport));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<TrainingDbContext>>().CreateDbContextAsync();
        var store = new CsvUploadStore(new DatabaseCsvUploads(db, TimeProvider.System, Unlimited(db)), long.MaxValue, node.Options.Csv);
        var imported = 0;
        foreach (var id in ids)
        {
            if (await db.DatasetUploads.AnyAsync(u => u.Owner == DatasetUpload.SharedOwner && u.Id == id)) continue;
            try
            {
                await store.StoreAsync((await files.ReadAsync(id, CancellationToken.None))!, CancellationToken.None);
                imported++;
            }
            catch (CsvException e)
            {
                logger.LogWarning("Upload file {Id} in {Folder} was not imported: {Problem}", id, folder, e.Message);
            }
        }
        if (imported > 0) logger.LogInformation("Imported {Count} CSV uploads from {Folder} into the database", imported, folder);
    }
}
