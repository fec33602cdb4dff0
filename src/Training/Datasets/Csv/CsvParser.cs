using System.Text;

namespace TrainingService.Training.Datasets;

/// <summary>
/// RFC 4180 CSV with a header line: comma-separated, fields optionally in double quotes ("" inside quotes is a
/// quote; quoted fields may span lines), LF or CRLF line ends, UTF-8 (a BOM is skipped). Empty lines are skipped.
/// Cells that are empty or NA, N/A, NaN, null, ? (any case) are missing.
/// </summary>
public static class CsvParser
{
    public static readonly string[] MissingMarkers = ["", "na", "n/a", "nan", "null", "?"];

    public static bool IsMissing(string? cell) =>
        cell is null || MissingMarkers.Contains(cell.Trim().ToLowerInvariant());

    /// <summary>Parses in one pass, linear in the input: every limit is checked as the record grows, so a
    /// two-million-column header is refused at its 10,001st column.</summary>
    public static CsvTable Parse(byte[] bytes, long maxBytes, CsvLimits? limits = null)
    {
        limits ??= new CsvLimits();
        if (bytes.Length > maxBytes) throw new CsvException($"the file has {bytes.Length} bytes; the limit is {maxBytes}.");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new CsvException("the file is not UTF-8 text.");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];

        using var records = Records(text, limits).GetEnumerator();
        if (!records.MoveNext()) throw new CsvException("the file is empty; expected a header line and at least one row.");
        var (headerLine, header) = records.Current;
        var names = header.Select(h => h.Trim()).ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < names.Length; c++)
        {
            if (names[c].Length == 0) throw new CsvException("the header has an empty column name.", headerLine, c + 1);
            if (!seen.TryAdd(names[c], c))
                throw new CsvException($"the header names column '{names[c]}' twice (columns {seen[names[c]] + 1} and {c + 1}).", headerLine, c + 1);
        }
        var rows = new List<string?[]>();
        var lines = new List<int>();
        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            if (rows.Count >= limits.MaxRows)
                throw new CsvException($"more than {limits.MaxRows} rows, the most accepted.", line);
            if ((long)(rows.Count + 1) * names.Length > limits.MaxCells)
                throw new CsvException($"more than {limits.MaxCells} cells (rows × columns), the most accepted.", line);
            if (fields.Count != names.Length)
            {
                throw new CsvException($"{fields.Count} fields, but the header has {names.Length}.", line,
                    Math.Min(fields.Count, names.Length) + 1);
            }
            rows.Add(fields.Select(f => IsMissing(f) ? null : f.Trim()).ToArray());
            lines.Add(line);
        }
        if (rows.Count == 0) throw new CsvException("the file has a header but no rows.", headerLine + 1);
        return new CsvTable(names, rows, lines);
    }

    private static IEnumerable<(int Line, List<string> Fields)> Records(string text, CsvLimits limits)
    {
        int line = 1, i = 0;
        while (i < text.Length)
        {
            int start = line, startIndex = i;
            var fields = new List<string>();
            var field = new StringBuilder();
            bool quoted = false, wasQuoted = false, any = false;
            while (i < text.Length)
            {
                if (i - startIndex >= limits.MaxRecordChars)
                    throw new CsvException($"a record longer than {limits.MaxRecordChars} characters, the most accepted.", start, fields.Count + 1);
                var c = text[i];
                if (quoted)
                {
                    if (c == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        quoted = false; i++; continue;
                    }
                    if (c == '\n') line++;
                    field.Append(c); i++; continue;
                }
                if (c == '"')
                {
                    if (field.Length > 0 && field.ToString().Trim().Length > 0)
                        throw new CsvException("a quote inside an unquoted field.", line, fields.Count + 1);
                    quoted = true; wasQuoted = true; any = true; field.Clear(); i++; continue;
                }
                if (c == ',')
                {
                    if (fields.Count + 1 >= limits.MaxColumns)
                        throw new CsvException($"more than {limits.MaxColumns} columns, the most accepted.", start, fields.Count + 2);
                    fields.Add(field.ToString()); field.Clear(); wasQuoted = false; any = true; i++; continue;
                }
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') { i++; continue; }
                if (c == '\n') { i++; line++; break; }
                if (wasQuoted && !char.IsWhiteSpace(c))
                    throw new CsvException("text after a closing quote.", line, fields.Count + 1);
                field.Append(c); any = true; i++;
            }
            if (quoted) throw new CsvException("a quoted field is never closed.", start, fields.Count + 1);
            if (!any && field.Length == 0) continue;
            fields.Add(field.ToString());
            yield return (start, fields);
        }
    }
}
