using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// What Keras's Attention and AdditiveAttention share: called on <c>[query, value]</c> or <c>[query, value, key]</c>
/// (key defaults to value), scores from the subclass, <c>softmax</c> over the keys (padded keys masked when the value
/// carries the mask), dropout on the probabilities in training, and <c>probabilities · value</c>.
/// </summary>
public abstract record BaseDenseAttention : Layer
{
    [Specs.Range(0, 1, MaxExclusive = true)] public double Dropout { get; init; }
    public int? Seed { get; init; }

    public override int MinInputs => 2;
    public override int MaxInputs => 3;

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        if (inputs.Length < 2) throw new ShapeException("expects [query, value] or [query, value, key]");
        foreach (var x in inputs) RequireRank(x, 2, "attention takes sequences (steps, features)");
        var key = inputs.Length > 2 ? inputs[2] : inputs[1];
        if (inputs[0].Last != key.Last) throw new ShapeException($"expects query and key with the same feature size, got {inputs[0]} and {key}");
        if (key[0] >= 0 && inputs[1][0] >= 0 && key[0] != inputs[1][0])
            throw new ShapeException($"expects key and value with the same number of steps, got {key} and {inputs[1]}");
        return [new Shape(inputs[0][0], inputs[1].Last)];
    }

    /// <summary>Scores (batch, query steps, key steps).</summary>
    internal abstract Tensor Scores(Tensor query, Tensor key, AttentionModule module);

    /// <summary>Adds the subclass's weights to <paramref name="module"/>.</summary>
    internal virtual void AddWeights(AttentionModule module, Shape[] inputs, BuildContext context) { }

    public override LayerModule Build(Shape[] inputs, BuildContext context)
    {
        var module = new AttentionModule(this);
        AddWeights(module, inputs, context);
        return module;
    }

    internal sealed class AttentionModule(BaseDenseAttention c) : LayerModule(c.Name)
    {
        public TorchSharp.Modules.Parameter Add(string name, Tensor value)
        {
            var p = new TorchSharp.Modules.Parameter(value);
            register_parameter(name, p);
            return p;
        }

        public Tensor? Weight(string name) => named_parameters().FirstOrDefault(p => p.name == name).parameter;

        public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
        {
            var (query, value) = (inputs[0], inputs[1]);
            var key = inputs.Length > 2 ? inputs[2] : value;
            var scores = c.Scores(query, key, this);
            if (context.InputMask is { } mask && ReferenceEquals(value, query))
                scores = scores.masked_fill(mask.logical_not().unsqueeze(1), -1e9);
            var probabilities = Layers.Dropout.Apply(scores.softmax(-1), c.Dropout, context);
            return [probabilities.matmul(value)];
        }
    }
}
