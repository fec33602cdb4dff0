using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Subtract: the first input minus the second (exactly two inputs).</summary>
public sealed record Subtract : ElementwiseMerge
{
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    internal override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs[0] - inputs[1];
}
