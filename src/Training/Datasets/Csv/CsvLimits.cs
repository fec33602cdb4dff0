namespace TrainingService.Training.Datasets;

/// <summary>Shape limits checked while a CSV is read, before the work they would cause (configuration
/// <c>Datasets:Csv:*</c>). The byte limit is <see cref="DatasetOptions.MaxUploadBytes"/>.</summary>
public sealed record CsvLimits
{
    public int MaxColumns { get; init; } = 10_000;

    /// <summary>Characters in one record (a quoted field may span lines; the record counts as one).</summary>
    public int MaxRecordChars { get; init; } = 1024 * 1024;

    public int MaxRows { get; init; } = 5_000_000;

    /// <summary>Rows × columns.</summary>
    public long MaxCells { get; init; } = 50_000_000;
}
