using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras ELU: <c>x</c> for x &gt; 0, <c>alpha · (exp(x) − 1)</c> otherwise.</summary>
public sealed record ELU : Layer
{
    public double Alpha { get; init; } = 1.0;

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Alpha);

    private sealed class Module(string name, double alpha) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor x, ForwardContext context) => nn.functional.elu(x, alpha);
    }
}
