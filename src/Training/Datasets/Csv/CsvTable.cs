namespace TrainingService.Training.Datasets;

/// <summary>A parsed CSV: header names and rows of cells (null = missing). <see cref="LineOf"/> gives each row's
/// 1-based line in the file, for error messages.</summary>
public sealed class CsvTable(IReadOnlyList<string> header, IReadOnlyList<string?[]> rows, IReadOnlyList<int> lines)
{
    public IReadOnlyList<string> Header { get; } = header;
    public IReadOnlyList<string?[]> Rows { get; } = rows;
    public int LineOf(int row) => lines[row];

    public int ColumnIndex(string name)
    {
        for (var i = 0; i < Header.Count; i++) if (Header[i] == name) return i;
        return -1;
    }
}
