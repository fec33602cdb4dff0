using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Masking on (steps, features): a step whose features all equal <c>mask_value</c> is padding. Its
/// output is zeroed and the mask is passed on, so recurrent layers and global average pooling skip it.</summary>
public sealed record Masking : Layer
{
    public double MaskValue { get; init; }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        if (inputs[0].Rank < 2) throw Expects("a sequence (steps, features)", inputs[0], "add Reshape to (steps, 1)");
        return [inputs[0]];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, MaskValue);

    private sealed class Module(string name, double maskValue) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var keep = input.ne(maskValue).any(-1, keepdim: true);
            var mask = keep.squeeze(-1);
            // Masks here are (batch, steps): for images of steps, a step is padding only where every position is.
            context.OutputMask = mask.dim() > 2 ? mask.flatten(2).any(-1) : mask;
            return input * keep.to(input.dtype);
        }
    }
}
