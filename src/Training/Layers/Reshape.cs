using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Reshape: to <c>target_shape</c> (without the batch axis; one -1 is inferred), in Keras's
/// (row-major, channels-last) element order.</summary>
public sealed record Reshape : Layer
{
    public required int[] TargetShape { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (TargetShape.Count(d => d == -1) > 1) yield return new SpecError($"{path}.target_shape", "at most one dimension may be -1");
        if (TargetShape.Any(d => d == 0 || d < -1)) yield return new SpecError($"{path}.target_shape", "dimensions must be positive, or -1 for one inferred dimension");
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var size = inputs[0].Size;
        var known = TargetShape.Where(d => d > 0).Aggregate(1L, (a, d) => a * d);
        var target = new Shape(TargetShape);
        if (size < 0) return [target];
        if (!TargetShape.Contains(-1))
        {
            if (known != size) throw Expects($"an input of {known} elements to reshape to {target}", inputs[0], $"its {size} elements need a target_shape with the same product (or a -1)");
            return [target];
        }
        if (size % known != 0) throw Expects($"an input whose size is a multiple of {known} to reshape to {target}", inputs[0]);
        return [new Shape(TargetShape.Select(d => d == -1 ? checked((int)(size / known)) : d).ToArray())];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, TargetShape);

    private sealed class Module(string name, int[] target) : UnaryModule(name)
    {
        private readonly long[] _target = target.Select(d => (long)d).ToArray();

        public override Tensor Forward(Tensor input, ForwardContext context) => input.reshape([input.shape[0], .. _target]);
    }
}
