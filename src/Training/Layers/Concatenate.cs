using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Concatenate along <c>axis</c> (Keras counts the batch axis as 0, so -1, the default, is the
/// channels/features axis). All other axes must match.</summary>
public sealed record Concatenate : Layer
{
    public int Axis { get; init; } = -1;

    public override int MinInputs => 2;
    public override int MaxInputs => int.MaxValue;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var rank = inputs[0].Rank;
        if (inputs.Any(s => s.Rank != rank))
            throw new ShapeException($"expects inputs of the same rank, got {string.Join(" and ", inputs.Select(s => s.ToString()))}; add Reshape or Flatten to match them");
        var axis = Axis < 0 ? Axis + rank + 1 : Axis;
        if (axis <= 0 || axis > rank)
            throw new ShapeException($"axis {Axis} is not a feature axis of inputs {inputs[0]} (with the batch axis, axes are 1..{rank} or -1..-{rank})");
        var dims = (int[])inputs[0].Dims.Clone();
        for (var a = 0; a < rank; a++)
        {
            if (a == axis - 1) dims[a] = inputs.Any(s => s[a] < 0) ? -1 : inputs.Sum(s => s[a]);
            else if (inputs.Any(s => s[a] != dims[a]))
                throw new ShapeException($"expects inputs matching on every axis but the concatenation axis {Axis}, got {string.Join(" and ", inputs.Select(s => s.ToString()))}");
        }
        return [new Shape(dims)];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) =>
        new Module(Name, Axis < 0 ? Axis + inputs[0].Rank + 1 : Axis);

    private sealed class Module(string name, int axis) : LayerModule(name)
    {
        public override Tensor[] Forward(Tensor[] inputs, ForwardContext context) => [cat(inputs, axis)];
    }
}
