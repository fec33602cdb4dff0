using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Add: the element-wise sum of its inputs (e.g. a residual connection).</summary>
public sealed record Add : ElementwiseMerge
{
    internal override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs.Skip(1).Aggregate(inputs[0], (a, b) => a + b);
}
