using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras 2's ThresholdedReLU: <c>x</c> for x &gt; theta, 0 otherwise.</summary>
public sealed record ThresholdedReLU : Layer
{
    [Range(0)] public double Theta { get; init; } = 1.0;

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Theta);

    private sealed class Module(string name, double theta) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context) => where(x > theta, x, zeros_like(x));
    }
}
