using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras LeakyReLU: <c>x</c> for x ≥ 0, <c>negative_slope · x</c> otherwise (Keras 3 default 0.3; Keras 2
/// files call it <c>alpha</c>).</summary>
public sealed record LeakyReLU : Layer
{
    [Range(0)] public double NegativeSlope { get; init; } = 0.3;
    /// <summary>Keras 2's name for negative_slope; wins when given.</summary>
    [Range(0)] public double? Alpha { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Alpha ?? NegativeSlope);

    private sealed class Module(string name, double slope) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) => nn.functional.leaky_relu(input, slope);
    }
}
