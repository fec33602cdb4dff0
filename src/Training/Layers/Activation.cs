using TrainingService.Training.Activations;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Activation: applies a named activation function.</summary>
public sealed record Activation : Layer
{
    [ActivationName, Key("activation")] public required string Function { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new ActivationModule(Name, Function);

    private sealed class ActivationModule(string name, string function) : UnaryModule(name)
    {
        private readonly Func<Tensor, Tensor> _f = ActivationRegistry.Get(function);

        public override Tensor Forward(Tensor input, ForwardContext context) => Activate(input, function, _f, null, context);
    }
}
