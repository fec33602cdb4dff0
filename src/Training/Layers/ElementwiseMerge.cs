using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras's element-wise merge layers (Add, Subtract, Multiply, Average, Maximum). Shapes broadcast as in Keras's
/// <c>Merge</c>: aligned from the last axis, a 1 stretches to the other size, otherwise sizes must be equal; an input
/// of lower rank gains axes right after the batch axis.
/// </summary>
public abstract record ElementwiseMerge : Layer
{
    public override int MinInputs => 2;
    public override int MaxInputs => int.MaxValue;

    /// <summary>Combines the (broadcastable) inputs.</summary>
    internal abstract Tensor Combine(IReadOnlyList<Tensor> inputs);

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        if (inputs.Length < MinInputs)
            throw new ShapeException($"expects at least {MinInputs} inputs, got {inputs.Length}");
        var result = inputs[0].Dims;
        foreach (var shape in inputs.Skip(1))
        {
            var other = shape.Dims;
            var rank = Math.Max(result.Length, other.Length);
            var merged = new int[rank];
            for (var i = 1; i <= rank; i++)
            {
                var a = i <= result.Length ? result[^i] : 1;
                var b = i <= other.Length ? other[^i] : 1;
                merged[^i] = a == 1 ? b : b == 1 ? a : a < 0 || b < 0 ? -1 : a == b ? a : throw Mismatch(inputs);
            }
            result = merged;
        }
        return [new Shape(result)];
    }

    private static ShapeException Mismatch(Shape[] inputs) =>
        new($"expects inputs of the same shape (or broadcastable: a 1 or a missing axis stretches), got "
            + $"{string.Join(" and ", inputs.Select(s => s.ToString()))}; add Reshape or a Dense to match them");

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this);

    private sealed class Module(ElementwiseMerge merge) : LayerModule(merge.Name)
    {
        public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
        {
            var rank = inputs.Max(t => t.dim());
            var aligned = inputs.Select(t =>
            {
                while (t.dim() < rank) t = t.unsqueeze(1);
                return t;
            }).ToArray();
            return [merge.Combine(aligned)];
        }
    }
}
