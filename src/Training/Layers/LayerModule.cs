using TrainingService.Training.Activations;
using TrainingService.Training.Regularizers;
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

    /// <summary>A layer's activation on its pre-activation values <paramref name="z"/>: remembers <paramref name="z"/> as
    /// the logits of a softmax/sigmoid output (so cross-entropy is exact) and adds the activity penalty while training.</summary>
    protected static Tensor Activate(Tensor z, string? activation, Func<Tensor, Tensor> function, Regularizer? activity, ForwardContext context)
    {
        var y = function(z);
        if (ActivationRegistry.ProducesProbabilities(activation)) context.Logits[y] = (z, activation!);
        AddActivityPenalty(y, activity, context);
        return y;
    }

    /// <summary>Keras's activity regularization: the penalty of the layer's output, per example, in training only.</summary>
    protected static void AddActivityPenalty(Tensor y, Regularizer? activity, ForwardContext context)
    {
        if (activity is not null && context.Training) context.Losses.Add(activity.Penalty(y) / y.shape[0]);
    }
}

/// <summary>A module with one input and one output.</summary>
public abstract class UnaryModule(string name) : LayerModule(name)
{
    public sealed override Tensor[] Forward(Tensor[] inputs, ForwardContext context) => [Forward(inputs[0], context)];

    public abstract Tensor Forward(Tensor input, ForwardContext context);
}
