using TrainingService.Training.Layers;
using static TorchSharp.torch;

namespace TrainingService.Training.Models;

/// <summary>
/// The TorchSharp module of a whole model: one registered submodule per layer, named by the layer's name (so saved
/// weights reload whenever the definition is the same), run in definition order over named tensors, with masks carried
/// from Embedding(mask_zero) to the layers that use them.
/// </summary>
public sealed class GraphModule : nn.Module
{
    private readonly ModelDefinition _definition;
    private readonly LayerModule[] _layers;

    public GraphModule(ModelDefinition definition, Generator rng) : base("model")
    {
        _definition = definition;
        var context = new BuildContext(rng);
        _layers = definition.Layers.Select(node => node.Layer.Build(node.InputShapes, context)).ToArray();
        for (var i = 0; i < _layers.Length; i++)
        {
            register_module(definition.Layers[i].Name, _layers[i]);
            // A frozen layer's parameters need no gradient; the optimizer skips them, so they get no slots either.
            if (!definition.Layers[i].Layer.Trainable)
                foreach (var p in _layers[i].parameters()) p.requires_grad = false;
        }
    }

    public ModelDefinition Definition => _definition;

    /// <summary>Runs the model on one batch: one tensor per input (model dtype, Keras layout), one per output.</summary>
    public Tensor[] Forward(Tensor[] inputs, ForwardContext context)
    {
        var values = new Dictionary<string, Tensor[]>(StringComparer.Ordinal);
        var masks = new Dictionary<string, Tensor?>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Length; i++)
        {
            values[_definition.Inputs[i].Name] = [inputs[i]];
            masks[_definition.Inputs[i].Name] = null;
        }
        for (var i = 0; i < _layers.Length; i++)
        {
            var node = _definition.Layers[i];
            var args = new Tensor[node.Inputs.Count];
            for (var j = 0; j < args.Length; j++) args[j] = values[node.Inputs[j].Node][node.Inputs[j].Index];
            var mask = masks[node.Inputs[0].Node];
            context.InputMask = mask;
            context.OutputMask = node.Layer.KeepsMask ? mask : null;
            values[node.Name] = _layers[i].Forward(args, context);
            masks[node.Name] = context.OutputMask;
        }
        return _definition.Outputs.Select(o => values[o.Node][o.Index]).ToArray();
    }

    /// <summary>The layers whose state is adapted to the training data before training, in model order.</summary>
    internal IEnumerable<IAdaptable> Adaptables => _layers.OfType<IAdaptable>().Where(a => a.NeedsAdapting);

    /// <summary>Kernel and bias regularization penalties of every layer.</summary>
    public IEnumerable<Tensor> Penalties() => _layers.SelectMany(l => l.Penalties());
}
