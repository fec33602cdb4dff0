using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>The TorchSharp module of one layer. Tensors between layers are in Keras's layout (batch first,
/// channels last); a layer that computes in another layout (convolutions) permutes inside itself.</summary>
public abstract class LayerModule : nn.Module
{
    protected LayerModule(string name) : base(name) { }

    public abstract Tensor[] Forward(Tensor[] inputs, ForwardContext context);

    /// <summary>Weight penalties (kernel and bias regularizers), added to the loss during training.</summary>
    public virtual IEnumerable<Tensor> Penalties() => [];
}

/// <summary>A module with one input and one output.</summary>
public abstract class UnaryModule(string name) : LayerModule(name)
{
    public sealed override Tensor[] Forward(Tensor[] inputs, ForwardContext context) => [Forward(inputs[0], context)];

    public abstract Tensor Forward(Tensor input, ForwardContext context);
}
