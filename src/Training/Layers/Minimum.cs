using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Minimum: the element-wise minimum of its inputs.</summary>
public sealed record Minimum : ElementwiseMerge
{
    internal override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs.Skip(1).Aggregate(inputs[0], (a, b) => a.minimum(b));
}
