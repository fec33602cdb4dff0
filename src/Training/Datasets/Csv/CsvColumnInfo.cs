namespace TrainingService.Training.Datasets;

/// <summary>What an uploaded column holds, as inferred: type, how many cells are missing, how many distinct values,
/// a few examples.</summary>
public sealed record CsvColumnInfo(string Name, ColumnType Type, int Missing, int Distinct, IReadOnlyList<string> Examples);
