namespace TrainingService.Training.Datasets;

/// <summary>Uploads as files, <c>{folder}/{sha256}.csv</c>. Writes go through a temporary file and a rename, so a
/// reader never sees a partial upload.</summary>
public sealed class CsvUploadFolder(string folder) : ICsvUploadBlobs
{
    public async Task<byte[]?> ReadAsync(string id, CancellationToken ct) =>
        CsvUploadIds.IsValid(id) && File.Exists(PathOf(id)) ? await File.ReadAllBytesAsync(PathOf(id), ct) : null;

    public async Task WriteAsync(CsvUpload upload, byte[] bytes, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        var path = PathOf(upload.Id);
        if (File.Exists(path)) return;
        var temp = Path.Combine(folder, $".{upload.Id}.{Guid.NewGuid():N}.part");
        try
        {
            await File.WriteAllBytesAsync(temp, bytes, ct);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The ids of the files in the folder (a service carrying files over into its database reads them).</summary>
    public IEnumerable<string> Ids() => Directory.Exists(folder)
        ? Directory.EnumerateFiles(folder, "*.csv").Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(CsvUploadIds.IsValid)
        : [];

    private string PathOf(string id) => Path.Combine(folder, id + ".csv");
}
