using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras MultiHeadAttention on sequences: called on <c>[query, value]</c> or <c>[query, value, key]</c> (one input is
/// self-attention, as <c>mha(x, x)</c>). Weights in Keras's EinsumDense layout: query/key kernels
/// <c>(dim, num_heads, key_dim)</c>, value kernel <c>(dim, num_heads, value_dim)</c>, biases <c>(num_heads, key_dim)</c>,
/// output kernel <c>(num_heads, value_dim, output_dim)</c> and bias <c>(output_dim)</c>. Scores are
/// <c>softmax(q·kᵀ / √key_dim)</c> over the keys (padded keys masked when the value carries a mask), with dropout on
/// the attention probabilities in training. <c>attention_axes</c> other than the sequence axis are not supported.
/// </summary>
public sealed record MultiHeadAttention : Layer
{
    [Range(1)] public required int NumHeads { get; init; }
    [Range(1)] public required int KeyDim { get; init; }
    [Range(1)] public int? ValueDim { get; init; }
    [Range(0, 1, MaxExclusive = true)] public double Dropout { get; init; }
    public bool UseBias { get; init; } = true;
    public int[]? OutputShape { get; init; }
    public JsonElement? AttentionAxes { get; init; }
    public bool? FlashAttention { get; init; }
    public Initializer KernelInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? KernelRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public JsonElement? KernelConstraint { get; init; }
    public JsonElement? BiasConstraint { get; init; }
    public int? Seed { get; init; }

    public override int MaxInputs => 3;

    private int V => ValueDim ?? KeyDim;

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var e in Constraints.RejectSet(path, ("kernel_constraint", KernelConstraint), ("bias_constraint", BiasConstraint))) yield return e;
        if (AttentionAxes is { ValueKind: not JsonValueKind.Null } axes && axes.GetRawText() is not ("1" or "[1]" or "-2" or "[-2]"))
            yield return new SpecError($"{path}.attention_axes", $"only the sequence axis is supported (null), got {axes.GetRawText()}");
        if (OutputShape is { Length: > 1 })
            yield return new SpecError($"{path}.output_shape", "only a single output size is supported, e.g. [64]");
    }

    /// <summary>Query, value and key input widths.</summary>
    private static (int Q, int V, int K) Dims(Shape[] inputs) =>
        (inputs[0].Last, inputs.Length > 1 ? inputs[1].Last : inputs[0].Last, inputs.Length > 2 ? inputs[2].Last : inputs.Length > 1 ? inputs[1].Last : inputs[0].Last);

    private int OutputDim(Shape[] inputs) => OutputShape is [var o] ? o : inputs[0].Last;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        foreach (var x in inputs)
        {
            RequireRank(x, 2, "MultiHeadAttention takes sequences (steps, features); add Reshape");
            if (x.Last < 0) throw Expects("a known feature dimension", x);
        }
        var valueSteps = inputs.Length > 1 ? inputs[1][0] : inputs[0][0];
        if (inputs.Length > 2 && inputs[2][0] >= 0 && valueSteps >= 0 && inputs[2][0] != valueSteps)
            throw new ShapeException($"expects key and value with the same number of steps, got {inputs[2]} and {inputs[1]}");
        return [new Shape(inputs[0][0], OutputDim(inputs))];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs)
    {
        var (q, v, k) = Dims(inputs);
        long h = NumHeads, bias = UseBias ? 1 : 0;
        long o = OutputDim(inputs);
        return (q * h * KeyDim + k * h * KeyDim + v * h * V + o * h * V + bias * (2 * h * KeyDim + h * V + o), 0);
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs, context);

    private sealed class Module : LayerModule
    {
        private readonly TorchSharp.Modules.Parameter query_kernel, key_kernel, value_kernel, output_kernel;
        private readonly TorchSharp.Modules.Parameter? query_bias, key_bias, value_bias, output_bias;
        private readonly MultiHeadAttention _c;

        public Module(MultiHeadAttention c, Shape[] inputs, BuildContext context) : base(c.Name)
        {
            _c = c;
            var (q, v, k) = Dims(inputs);
            long h = c.NumHeads, o = c.OutputDim(inputs);
            TorchSharp.Modules.Parameter P(long[] shape, Initializer init) => new(init.Create(shape, context.Rng));
            // Keras builds query, key, value, output in this order; drawing in the same order keeps seeds comparable.
            query_kernel = P([q, h, c.KeyDim], c.KernelInitializer);
            if (c.UseBias) query_bias = P([h, c.KeyDim], c.BiasInitializer);
            key_kernel = P([k, h, c.KeyDim], c.KernelInitializer);
            if (c.UseBias) key_bias = P([h, c.KeyDim], c.BiasInitializer);
            value_kernel = P([v, h, c.V], c.KernelInitializer);
            if (c.UseBias) value_bias = P([h, c.V], c.BiasInitializer);
            output_kernel = P([h, c.V, o], c.KernelInitializer);
            if (c.UseBias) output_bias = P([o], c.BiasInitializer);
            RegisterComponents();
        }

        private static Tensor Project(Tensor x, Tensor kernel, Tensor? bias)
        {
            var y = einsum("btd,dhk->bthk", x, kernel);
            return bias is null ? y : y + bias;
        }

        public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
        {
            var query = inputs[0];
            var value = inputs.Length > 1 ? inputs[1] : query;
            var key = inputs.Length > 2 ? inputs[2] : value;
            var q = Project(query, query_kernel, query_bias) * (1.0 / Math.Sqrt(_c.KeyDim));
            var k = Project(key, key_kernel, key_bias);
            var v = Project(value, value_kernel, value_bias);
            var scores = einsum("bshk,bthk->bhts", k, q);
            // Self-attention on a masked sequence: padded steps are not attended to (Keras's value mask).
            if (context.InputMask is { } mask && ReferenceEquals(value, query))
                scores = scores.masked_fill(mask.logical_not().unsqueeze(1).unsqueeze(1), -1e9);
            var probabilities = scores.softmax(-1);
            probabilities = Layers.Dropout.Apply(probabilities, _c.Dropout, context);
            var attended = einsum("bhts,bshv->bthv", probabilities, v);
            var y = einsum("bthv,hvo->bto", attended, output_kernel);
            if (output_bias is not null) y = y + output_bias;
            AddActivityPenalty(y, _c.ActivityRegularizer, context);
            return [y];
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.KernelRegularizer is { } kr)
                foreach (var w in new[] { query_kernel, key_kernel, value_kernel, output_kernel }) yield return kr.Penalty(w);
            if (_c.BiasRegularizer is { } br)
                foreach (var b in new[] { query_bias, key_bias, value_bias, output_bias }.OfType<Tensor>()) yield return br.Penalty(b);
        }
    }
}
