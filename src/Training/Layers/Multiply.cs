using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Multiply: the element-wise product of its inputs.</summary>
public sealed record Multiply : ElementwiseMerge
{
    internal override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs.Skip(1).Aggregate(inputs[0], (a, b) => a * b);
}
