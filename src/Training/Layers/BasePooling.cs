using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>What the max and average pooling layers share, as in Keras's <c>BasePooling</c>: <c>pool_size</c>,
/// <c>strides</c> (defaulting to <c>pool_size</c>) and <c>padding</c> over <see cref="Rank"/> spatial axes of a
/// channels-last input. Keras 3 requires <c>pool_size</c>; tf.keras's default of 2 per axis is used when it is absent.</summary>
public abstract record BasePooling : Layer, ISpatialConfig
{
    private readonly bool _max;

    protected BasePooling(int rank, bool max)
    {
        Rank = rank;
        _max = max;
        PoolSize = Enumerable.Repeat(2, rank).ToArray();
    }

    /// <summary>The number of spatial axes; the tuple keys have this many elements.</summary>
    public int Rank { get; }

    [Tuple, Range(1)] public int[] PoolSize { get; init; }
    [Tuple, Range(1)] public int[]? Strides { get; init; }
    [OneOf("valid", "same")] public string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";

    private int[] Stride => Strides ?? PoolSize;

    public override Shape[] OutputShapes(Shape[] inputs) => [Pooling.OutputShape(inputs[0], PoolSize, Stride, Padding, Expects)];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new PoolingModule(Name, _max, PoolSize, Stride, Padding);
}
