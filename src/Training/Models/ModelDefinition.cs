using TrainingService.Training.Layers;

namespace TrainingService.Training.Models;

/// <summary>A model input: its name, per-example shape (Keras order) and dtype (float32, or int64 for indices).</summary>
public sealed record ModelInput(string Name, Shape Shape, string Dtype)
{
    public bool IsInteger => Dtype != "float32";
}

/// <summary>The <paramref name="Index"/>-th output of the node called <paramref name="Node"/> (a layer or an input).</summary>
public sealed record TensorRef(string Node, int Index = 0)
{
    public override string ToString() => Index == 0 ? Node : $"{Node}:{Index}";
}

/// <summary>A layer in the graph with the tensors it is called on, its output shapes and where it was defined.</summary>
public sealed record LayerNode(Layer Layer, IReadOnlyList<TensorRef> Inputs, Shape[] InputShapes, Shape[] OutputShapes, string Path)
{
    public string Name => Layer.Name;
}

/// <summary>A validated model graph: inputs, layers in an order where every layer comes after what it reads, outputs.
/// A Sequential model is the chain case.</summary>
public sealed record ModelDefinition(
    IReadOnlyList<ModelInput> Inputs,
    IReadOnlyList<LayerNode> Layers,
    IReadOnlyList<TensorRef> Outputs,
    IReadOnlyList<Shape> OutputShapes,
    bool IsSequential)
{
    public IReadOnlyList<string> OutputNames => Outputs.Select(o => o.Node).ToArray();
}
