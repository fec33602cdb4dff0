using System.Globalization;

namespace TrainingService.Training.Datasets;

/// <summary>Infers column types: numeric when every present cell parses as a number (invariant culture);
/// otherwise categorical when the values repeat (at most max(20, rows/10) distinct values, each at most 64
/// characters), otherwise text.</summary>
public static class CsvColumnInference
{
    public static bool TryNumber(string? cell, out double value) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static IReadOnlyList<CsvColumnInfo> Infer(CsvTable table)
    {
        var result = new List<CsvColumnInfo>();
        for (int c = 0; c < table.Header.Count; c++)
        {
            var present = table.Rows.Select(r => r[c]).Where(v => v is not null).Select(v => v!).ToList();
            var distinct = present.Distinct(StringComparer.Ordinal).ToList();
            ColumnType type;
            if (present.Count > 0 && present.All(v => TryNumber(v, out _))) type = ColumnType.Numeric;
            else if (distinct.Count <= Math.Max(20, table.Rows.Count / 10) && distinct.All(v => v.Length <= 64)) type = ColumnType.Categorical;
            else type = ColumnType.Text;
            result.Add(new CsvColumnInfo(table.Header[c], type, table.Rows.Count - present.Count, distinct.Count, distinct.Take(3).ToArray()));
        }
        return result;
    }

    /// <summary>The first cell of a column that is present and not a number, as (row index, value).</summary>
    public static (int Row, string Value)? FirstNonNumeric(CsvTable table, int column)
    {
        for (int r = 0; r < table.Rows.Count; r++)
        {
            var v = table.Rows[r][column];
            if (v is not null && !TryNumber(v, out _)) return (r, v);
        }
        return null;
    }
}
