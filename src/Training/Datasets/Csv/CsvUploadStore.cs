using System.Security.Cryptography;

namespace TrainingService.Training.Datasets;

/// <summary>
/// Stores uploaded CSV files once, by content hash (<c>{folder}/{sha256}.csv</c>), after checking that they parse.
/// Writes go through a temporary file and a rename, so a reader never sees a partial upload.
/// </summary>
public sealed class CsvUploadStore(string folder, long maxBytes, CsvLimits? limits = null)
{
    public CsvUploadStore(DatasetOptions options)
        : this(options.ResolvedUploadFolder ?? throw new InvalidOperationException("Datasets:Root or Datasets:UploadFolder must be set to store uploads."),
            options.MaxUploadBytes, options.Csv) { }

    public string Folder => folder;

    /// <summary>Checks and stores the bytes; throws <see cref="CsvException"/> (with line and column) when unusable.</summary>
    public CsvUpload Store(byte[] bytes)
    {
        var table = CsvParser.Parse(bytes, maxBytes, limits);
        CsvColumnInference.CheckNumericColumns(table);
        var id = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Directory.CreateDirectory(folder);
        var path = PathOf(id);
        if (!File.Exists(path))
        {
            var temp = Path.Combine(folder, $".{id}.{Guid.NewGuid():N}.part");
            try
            {
                File.WriteAllBytes(temp, bytes);
                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }
        return Describe(id, bytes.Length, table);
    }

    public bool Exists(string id) => CsvUploadIds.IsValid(id) && File.Exists(PathOf(id));

    public CsvUpload Describe(string id)
    {
        var bytes = ReadBytes(id);
        return Describe(id, bytes.Length, CsvParser.Parse(bytes, maxBytes, limits));
    }

    public CsvTable Open(string id) => CsvParser.Parse(ReadBytes(id), maxBytes, limits);

    private byte[] ReadBytes(string id)
    {
        if (!Exists(id)) throw new DatasetException($"No upload with id '{id}'; upload the CSV first.");
        return File.ReadAllBytes(PathOf(id));
    }

    private static CsvUpload Describe(string id, long size, CsvTable table) =>
        new(id, size, table.Rows.Count, CsvColumnInference.Infer(table));

    private string PathOf(string id) => Path.Combine(folder, id + ".csv");
}
