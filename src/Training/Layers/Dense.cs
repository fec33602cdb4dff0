using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Dense: <c>activation(x · kernel + bias)</c> on the last axis.</summary>
public sealed record Dense : KernelLayer
{
    [Range(1)] public required int Units { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        // Keras applies Dense to the last axis of any input. On a sequence (steps, features) that is the usual
        // per-step projection; on an image-shaped input it is nearly always a missing Flatten, so we say so.
        if (x.Rank > 2) throw Expects("a 1-D input (or a 2-D sequence)", x, "add Flatten or a global pooling layer before it");
        if (x.Last < 0) throw Expects("a known last dimension", x);
        return [x.With(-1, Units)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)inputs[0].Last * Units + (UseBias ? Units : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new DenseModule(this, inputs[0].Last, context);

    // Keras's kernel is (in, units); torch's linear weight is (units, in).
    private sealed class DenseModule(Dense config, int inputDim, BuildContext context)
        : KernelModule(config, [inputDim, config.Units], [1, 0], config.Units, context)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) => Activate(nn.functional.linear(input, Weight, Bias), context);
    }
}
