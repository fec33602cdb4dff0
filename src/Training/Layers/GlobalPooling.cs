using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>What Keras's global pooling layers share: reduce every spatial axis of a channels-last input
/// ((steps, C) or (H, W, C)) to (C,), or with <c>keepdims</c> to (1, C) / (1, 1, C). A subclass says how it reduces.</summary>
public abstract record GlobalPooling : Layer
{
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    public bool Keepdims { get; init; }

    /// <summary>How many spatial axes the input has (1 for sequences, 2 for images).</summary>
    protected abstract int SpatialRank { get; }

    /// <summary>The reduction over <paramref name="dims"/> (the spatial axes, batch first).</summary>
    protected abstract Tensor Reduce(Tensor input, long[] dims, bool keepdim, ForwardContext context);

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, SpatialRank + 1, x.Rank <= SpatialRank ? "add Reshape" : null);
        return [Keepdims ? new Shape([.. Enumerable.Repeat(1, SpatialRank), x.Last]) : new Shape(x.Last)];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(GlobalPooling layer) : UnaryModule(layer.Name)
    {
        private readonly long[] _dims = Enumerable.Range(1, layer.SpatialRank).Select(d => (long)d).ToArray();

        public override Tensor Forward(Tensor input, ForwardContext context) => layer.Reduce(input, _dims, layer.Keepdims, context);
    }
}
