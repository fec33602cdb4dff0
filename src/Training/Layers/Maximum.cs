using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Maximum: the element-wise maximum of its inputs.</summary>
public sealed record Maximum : ElementwiseMerge
{
    internal override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs.Skip(1).Aggregate(inputs[0], (a, b) => a.maximum(b));
}
