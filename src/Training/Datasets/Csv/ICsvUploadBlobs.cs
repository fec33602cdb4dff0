namespace TrainingService.Training.Datasets;

/// <summary>Where uploaded CSV bytes are kept: the service keeps them in its database (every worker reads the same
/// uploads); <see cref="CsvUploadFolder"/> keeps them as files for single-process use and tests.</summary>
public interface ICsvUploadBlobs
{
    /// <summary>The bytes of upload <paramref name="id"/>, or null when there is none (or the caller may not see it).</summary>
    Task<byte[]?> ReadAsync(string id, CancellationToken ct);

    /// <summary>Keeps <paramref name="bytes"/> under <paramref name="upload"/>'s id; storing the same id again changes nothing.</summary>
    Task WriteAsync(CsvUpload upload, byte[] bytes, CancellationToken ct);
}
