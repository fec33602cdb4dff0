using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalMaxPooling1D: the maximum over the spatial axes of (steps, channels), giving (channels,), or with
/// <c>keepdims</c> (1, channels).</summary>
[KerasName("GlobalMaxPooling1D", "GlobalMaxPool1D")]
public sealed record GlobalMaxPooling1D : Layer
{
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    public bool Keepdims { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 2, x.Rank < 2 ? "add Reshape" : null);
        return [Keepdims ? new Shape(1, x.Last) : new Shape(x.Last)];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Keepdims);

    private sealed class Module(string name, bool keepdim) : UnaryModule(name)
    {
        private static readonly long[] Dims = [1];

        public override Tensor Forward(Tensor input, ForwardContext context) => input.amax(Dims, keepdim);
    }
}
