using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Average: the element-wise mean of its inputs.</summary>
public sealed record Average : ElementwiseMerge
{
    internal override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs.Skip(1).Aggregate(inputs[0], (a, b) => a + b) / inputs.Count;
}
