using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras UnitNormalization: scales each example to unit L2 norm over <c>axis</c> (default -1):
/// <c>x · rsqrt(max(Σx², 1e-12))</c>.</summary>
public sealed record UnitNormalization : Layer
{
    public Axes Axis { get; init; } = new(-1);

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        Axis.Resolve(inputs[0].Rank + 1, inputs[0]);
        return [inputs[0]];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) =>
        new Module(Name, Axis.Resolve(inputs[0].Rank + 1, inputs[0]).Select(a => (long)a).ToArray());

    private sealed class Module(string name, long[] axes) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context) =>
            x * x.square().sum(axes, keepdim: true).clamp_min(1e-12).rsqrt();
    }
}
