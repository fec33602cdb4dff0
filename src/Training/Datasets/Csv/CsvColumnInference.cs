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
        for (var c = 0; c < table.Header.Count; c++)
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

    /// <summary>Refuses a column that is numeric but for a few cells (over 90% of its present cells are numbers):
    /// those cells are taken as errors in the file, reported by line and column.</summary>
    public static void CheckNumericColumns(CsvTable table)
    {
        for (var c = 0; c < table.Header.Count; c++)
        {
            int present = 0, numbers = 0;
            foreach (var row in table.Rows)
            {
                if (row[c] is null) continue;
                present++;
                if (TryNumber(row[c], out _)) numbers++;
            }
            if (numbers < present && numbers > 0.9 * present)
            {
                var (r, value) = FirstNonNumeric(table, c)!.Value;
                throw new CsvException($"'{value}' is not a number, but column '{table.Header[c]}' holds numbers ({numbers} of {present} cells).",
                    table.LineOf(r), c + 1);
            }
        }
    }

    /// <summary>The first cell of a column that is present and not a number, as (row index, value).</summary>
    public static (int Row, string Value)? FirstNonNumeric(CsvTable table, int column)
    {
        for (var r = 0; r < table.Rows.Count; r++)
        {
            var v = table.Rows[r][column];
            if (v is not null && !TryNumber(v, out _)) return (r, v);
        }
        return null;
    }
}
