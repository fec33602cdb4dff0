using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras AveragePooling1D on (steps, channels): the average over each window; <c>strides</c> defaults to
/// <c>pool_size</c>. "same" padding is left out of each average, as in Keras. Keras 3 requires <c>pool_size</c>;
/// tf.keras's default [2] is used when it is absent.</summary>
[KerasName("AveragePooling1D", "AvgPool1D")]
public sealed record AveragePooling1D : Layer
{
    [Tuple(1), Range(1)] public int[] PoolSize { get; init; } = [2];
    [Tuple(1), Range(1)] public int[]? Strides { get; init; }
    [OneOf("valid", "same")] public string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";

    private int[] Stride => Strides ?? PoolSize;

    public override Shape[] OutputShapes(Shape[] inputs) => [Pooling.OutputShape(inputs[0], PoolSize, Stride, Padding, Expects)];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new PoolingModule(Name, max: false, PoolSize, Stride, Padding);
}
