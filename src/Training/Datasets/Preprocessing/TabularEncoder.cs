using System.Globalization;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>Encodes one CSV cell with its fitted column: the one function used for training rows and prediction
/// records alike.</summary>
public static class TabularEncoder
{
    /// <summary>Writes the cell's encoding into <paramref name="dest"/> (width <see cref="FittedColumn.Width"/>).
    /// Returns a problem description, or null.</summary>
    public static string? Encode(FittedColumn c, string? cell, Span<float> dest)
    {
        var missing = CsvParser.IsMissing(cell);
        if (c.Type == ColumnType.Numeric)
        {
            double v;
            if (missing)
            {
                if (c.NumericFill is not { } fill) return "is missing; the model was trained with missing: \"drop\", so a number is required.";
                v = fill;
            }
            else if (!CsvColumnInference.TryNumber(cell!.Trim(), out v))
            {
                return $"'{cell}' is not a number; column '{c.Name}' is numeric.";
            }
            if (c.Mean is { } mean && c.Std is { } std) v = (v - mean) / std;
            dest[0] = (float)v;
            return null;
        }
        string category;
        if (missing)
        {
            if (c.CategoryFill is not { } fill) return "is missing; the model was trained with missing: \"drop\", so a value is required.";
            category = fill;
        }
        else category = cell!.Trim();
        dest.Clear();
        for (var k = 0; k < c.Categories!.Count; k++)
        {
            if (string.Equals(c.Categories[k], category, StringComparison.Ordinal)) { dest[k] = 1; break; }
        }
        return null;
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
