using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Rescaling: <c>x * scale + offset</c> (e.g. scale 1/255 for pixel values).</summary>
public sealed record Rescaling : Layer
{
    public required double Scale { get; init; }
    public double Offset { get; init; }

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs) => [inputs[0]];

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Scale, Offset);

    private sealed class Module(string name, double scale, double offset) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.is_floating_point() ? input : input.to(ScalarType.Float32);
            return offset == 0 ? x * scale : x * scale + offset;
        }
    }
}
