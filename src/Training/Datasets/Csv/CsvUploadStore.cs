using System.Security.Cryptography;

namespace TrainingService.Training.Datasets;

/// <summary>
/// Uploaded CSV files: checked to parse before they are kept, stored once by content hash in <paramref name="blobs"/>,
/// and parsed again (within the same limits) when a run or a description needs them.
/// </summary>
public sealed class CsvUploadStore(ICsvUploadBlobs blobs, long maxBytes, CsvLimits? limits = null)
{
    /// <summary>Files under <see cref="DatasetOptions.ResolvedUploadFolder"/>.</summary>
    public CsvUploadStore(DatasetOptions options)
        : this(new CsvUploadFolder(options.ResolvedUploadFolder ?? throw new InvalidOperationException("Datasets:Root or Datasets:UploadFolder must be set to store uploads.")),
            options.MaxUploadBytes, options.Csv) { }

    /// <summary>Checks and stores the bytes; throws <see cref="CsvException"/> (with line and column) when unusable.</summary>
    public async Task<CsvUpload> StoreAsync(byte[] bytes, CancellationToken ct)
    {
        var table = CsvParser.Parse(bytes, maxBytes, limits);
        CsvColumnInference.CheckNumericColumns(table);
        var upload = Describe(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length, table);
        await blobs.WriteAsync(upload, bytes, ct);
        return upload;
    }

    /// <summary>The upload's size, rows and columns, or null when there is no such upload.</summary>
    public async Task<CsvUpload?> DescribeAsync(string id, CancellationToken ct) =>
        CsvUploadIds.IsValid(id) && await blobs.ReadAsync(id, ct) is { } bytes ? Describe(id, bytes.Length, CsvParser.Parse(bytes, maxBytes, limits)) : null;

    /// <summary>The parsed upload, or null when there is no such upload.</summary>
    public async Task<CsvTable?> OpenAsync(string id, CancellationToken ct) =>
        CsvUploadIds.IsValid(id) && await blobs.ReadAsync(id, ct) is { } bytes ? CsvParser.Parse(bytes, maxBytes, limits) : null;

    private static CsvUpload Describe(string id, long size, CsvTable table) =>
        new(id, size, table.Rows.Count, CsvColumnInference.Infer(table));
}
