namespace TrainingService.Persistence.Datasets;

/// <summary>
/// An uploaded CSV, in the database so that every worker on every machine can train on it. Stored once per owner by
/// content hash (<see cref="Id"/>, the SHA-256 of <see cref="Content"/>): uploading the same bytes again is a no-op,
/// and two teams uploading the same file each own (and pay for) their copy.
/// </summary>
public sealed class DatasetUpload : Security.IOwned
{
    /// <summary>The team that uploaded it; <see cref="SharedOwner"/> for files carried over from before uploads had
    /// owners, which stay usable by everyone as they were.</summary>
    public string? Owner { get; set; }

    public required string Id { get; set; }

    /// <summary>Size of <see cref="Content"/>, so listings and quotas need not read it.</summary>
    public long Bytes { get; set; }

    public int Rows { get; set; }

    /// <summary>The inferred columns as the API shows them (JSON), kept so a listing parses nothing.</summary>
    public required string ColumnsJson { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public required byte[] Content { get; set; }

    public const string SharedOwner = "";
}
