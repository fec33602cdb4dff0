namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>One CSV feature column as fitted on the training split: numeric (imputed, optionally standardised; one
/// model value) or categorical (imputed, one-hot over <see cref="Categories"/>; unseen categories give all zeros).</summary>
public sealed record FittedColumn(
    string Name,
    ColumnType Type,
    double? NumericFill,
    string? CategoryFill,
    IReadOnlyList<string>? Categories,
    double? Mean,
    double? Std)
{
    public int Width => Type == ColumnType.Numeric ? 1 : Categories!.Count;
}
