using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalAveragePooling1D: the mean over the spatial axes of (steps, channels), giving (channels,), or with
/// <c>keepdims</c> (1, channels). With a mask, only the real steps are averaged, as in Keras.</summary>
[KerasName("GlobalAveragePooling1D", "GlobalAvgPool1D")]
public sealed record GlobalAveragePooling1D : Layer
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

        public override Tensor Forward(Tensor input, ForwardContext context) => context.InputMask is { } mask ? MaskedMean(input, mask, keepdim) : input.mean(Dims, keepdim);

        /// <summary>As Keras: with a mask (from Embedding mask_zero), the mean over the real steps only.</summary>
        private static Tensor MaskedMean(Tensor input, Tensor mask, bool keepdim)
        {
            var m = mask.unsqueeze(-1).to(input.dtype);
            return (input * m).sum(Dims, keepdim) / m.sum(Dims, keepdim);
        }
    }
}
