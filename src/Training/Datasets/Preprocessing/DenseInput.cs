namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>One model input's instances as numbers already laid out row-major, the first dimension being the instance
/// (what a JSON reader or a binary tensor protocol produces without building a document). <see cref="Values"/> may be
/// longer than <see cref="Shape"/> needs (a pooled buffer); only the first product-of-shape values are read.</summary>
public readonly record struct DenseInput(float[] Values, int[] Shape)
{
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);
}
