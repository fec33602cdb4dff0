using TrainingService.Training.Activations;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Softmax over <c>axis</c> (default -1; an int or a list of axes, with the batch axis counted). On
/// the last axis its input is kept as logits, so cross-entropy after it is exact.</summary>
public sealed record Softmax : Layer
{
    public Axes Axis { get; init; } = new(-1);

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        Axis.Resolve(inputs[0].Rank + 1, inputs[0]);
        return [inputs[0]];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) =>
        new Module(Name, Axis.Resolve(inputs[0].Rank + 1, inputs[0]).Select(a => (long)a).ToArray(), inputs[0].Rank + 1);

    private sealed class Module(string name, long[] axes, int rank) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context)
        {
            if (axes is [var a] && a == rank - 1)
                return Activate(x, "softmax", t => t.softmax(-1), null, context);
            // Several axes: normalise over them together (Keras's logsumexp over the axes).
            var lse = x;
            foreach (var axis in axes.Reverse()) lse = lse.logsumexp(axis, keepdim: true);
            return (x - lse).exp();
        }
    }
}
