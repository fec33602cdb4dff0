using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalAveragePooling2D: the mean over the spatial axes of (H, W, C), giving (channels,), or with
/// <c>keepdims</c> (1, 1, channels).</summary>
[KerasName("GlobalAveragePooling2D", "GlobalAvgPool2D")]
public sealed record GlobalAveragePooling2D : Layer
{
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    public bool Keepdims { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3, x.Rank < 3 ? "add Reshape" : null);
        return [Keepdims ? new Shape(1, 1, x.Last) : new Shape(x.Last)];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Keepdims);

    private sealed class Module(string name, bool keepdim) : UnaryModule(name)
    {
        private static readonly long[] Dims = [1, 2];

        public override Tensor Forward(Tensor input, ForwardContext context) => input.mean(Dims, keepdim);
    }
}
