namespace TrainingService.Training.Layers;

/// <summary>A per-example tensor shape in Keras order (no batch dimension; images H, W, C). -1 = variable (None).</summary>
public sealed class Shape : IEquatable<Shape>
{
    public Shape(params int[] dims) => Dims = dims;

    public int[] Dims { get; }
    public int Rank => Dims.Length;
    public int this[int axis] => Dims[axis < 0 ? Dims.Length + axis : axis];
    public int Last => Dims[^1];

    /// <summary>Elements per example, or -1 when a dimension is variable.</summary>
    public long Size => Dims.Any(d => d < 0) ? -1 : Dims.Aggregate(1L, (a, d) => a * d);

    public Shape With(int axis, int value)
    {
        var dims = (int[])Dims.Clone();
        dims[axis < 0 ? dims.Length + axis : axis] = value;
        return new Shape(dims);
    }

    public bool Equals(Shape? other) => other is not null && Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode() => Dims.Aggregate(17, (h, d) => h * 31 + d);

    /// <summary>Keras's notation: <c>(13, 13, 32)</c>, <c>(None, 64)</c>, <c>(10,)</c>.</summary>
    public override string ToString() =>
        Dims.Length == 1 ? $"({Show(Dims[0])},)" : "(" + string.Join(", ", Dims.Select(Show)) + ")";

    private static string Show(int d) => d < 0 ? "None" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
