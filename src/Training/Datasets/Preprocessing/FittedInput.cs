namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>One model input as fitted. The stored (raw) example has <see cref="RawShape"/> and <see cref="RawDType"/>;
/// the transform casts, augments (training only), multiplies by <see cref="Rescale"/>, standardises with
/// <see cref="Mean"/>/<see cref="Std"/> (per channel for images, per feature for tables; in rescaled units), and
/// reshapes to <see cref="Shape"/>. Sequence inputs carry <see cref="Text"/>; CSV inputs carry <see cref="Columns"/>
/// (encoded before batching, so their raw form is already the model's float32 row).</summary>
public sealed record FittedInput
{
    public required string Name { get; init; }
    public required int[] RawShape { get; init; }
    public required string RawDType { get; init; }
    public required int[] Shape { get; init; }
    public bool IsInteger { get; init; }
    public double? Rescale { get; init; }
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }
    public AugmentationSpec? Augmentation { get; init; }
    public TextEncoding? Text { get; init; }
    public IReadOnlyList<FittedColumn>? Columns { get; init; }
}
