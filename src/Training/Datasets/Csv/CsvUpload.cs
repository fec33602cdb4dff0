namespace TrainingService.Training.Datasets;

/// <summary>A stored CSV upload: its id (SHA-256 of the bytes; a run names it as <c>csv:&lt;id&gt;</c>), size and
/// inferred columns.</summary>
public sealed record CsvUpload(string Id, long Bytes, int Rows, IReadOnlyList<CsvColumnInfo> Columns);
