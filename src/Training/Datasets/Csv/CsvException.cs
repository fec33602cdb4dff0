namespace TrainingService.Training.Datasets;

/// <summary>A CSV file that cannot be used, with the 1-based line and column of the problem when there is one.</summary>
public sealed class CsvException(string message, int? line = null, int? column = null)
    : Exception(line is null ? message : column is null ? $"line {line}: {message}" : $"line {line}, column {column}: {message}")
{
    public int? Line { get; } = line;
    public int? Column { get; } = column;
}
