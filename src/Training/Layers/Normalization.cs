using System.Text.Json;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras Normalization: <c>(x − mean) / max(√variance, 1e-7)</c> per element of <c>axis</c> (default -1; a list, or
/// null for one mean and variance over everything), or the inverse with <c>invert</c>. Without <c>mean</c> and
/// <c>variance</c> in the config, the statistics are adapted before training on the run's training split (as
/// <c>layer.adapt(x_train)</c>: the mean and biased variance of what reaches the layer) and saved with the weights,
/// so prediction uses the same ones. They are weights that no optimizer updates (Keras's non-trainable mean and
/// variance).
/// </summary>
public sealed record Normalization : Layer
{
    /// <summary>An int, a list, or null (all axes together).</summary>
    public JsonElement? Axis { get; init; }
    public JsonElement? Mean { get; init; }
    public JsonElement? Variance { get; init; }
    public bool Invert { get; init; }

    public override bool KeepsMask => true;

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Mean is { ValueKind: not JsonValueKind.Null } != Variance is { ValueKind: not JsonValueKind.Null })
            yield return new SpecError($"{path}.{(Mean is null ? "mean" : "variance")}", "give both mean and variance, or neither (then they are adapted on the training data)");
        if (Axis is { } a && a.ValueKind is not (JsonValueKind.Null or JsonValueKind.Number or JsonValueKind.Array))
            yield return new SpecError($"{path}.axis", $"expected an axis, a list of axes or null, got {a.GetRawText()}");
        foreach (var (key, v) in new[] { ("mean", Mean), ("variance", Variance) })
            if (v is { ValueKind: not JsonValueKind.Null } value && Values(value) is null)
                yield return new SpecError($"{path}.{key}", $"expected a number or a list of numbers, got {value.GetRawText()}");
    }

    private static float[]? Values(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => [v.GetSingle()],
        JsonValueKind.Array when v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) => v.EnumerateArray().Select(e => e.GetSingle()).ToArray(),
        _ => null,
    };

    /// <summary>The kept axes as indices into the per-example shape (none: one statistic for everything).</summary>
    private int[] KeptAxes(Shape x)
    {
        if (Axis is not { } a) return [x.Rank - 1];
        if (a.ValueKind == JsonValueKind.Null) return [];
        var axes = a.ValueKind == JsonValueKind.Number ? new Axes(a.GetInt32()) : new Axes(a.EnumerateArray().Select(e => e.GetInt32()).ToArray());
        return axes.Resolve(x.Rank + 1, x).Select(i => i - 1).ToArray();
    }

    /// <summary>The statistics' shape, broadcastable against one example.</summary>
    private long[] StatShape(Shape x)
    {
        var kept = KeptAxes(x);
        var shape = Enumerable.Range(0, x.Rank).Select(i => kept.Contains(i) ? (long)x[i] : 1L).ToArray();
        if (shape.Any(d => d < 0)) throw Expects("known sizes on the normalized axes", x);
        return shape;
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var size = StatShape(inputs[0]).Aggregate(1L, (a, b) => a * b);
        foreach (var v in new[] { Mean, Variance })
            if (v is { ValueKind: not JsonValueKind.Null } value && Values(value) is { } values && values.Length != 1 && values.Length != size)
                throw new ShapeException($"mean and variance need 1 or {size} values for an input {inputs[0]}, got {values.Length}");
        return [inputs[0]];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) => (0, 2 * StatShape(inputs[0]).Aggregate(1L, (a, b) => a * b));

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, StatShape(inputs[0]));

    internal sealed class Module : UnaryModule, IAdaptable
    {
        private readonly Tensor mean, variance;
        private readonly Normalization _c;
        private readonly long[] _reduce;
        private Tensor? _sum, _squares;
        private long _count;

        public Module(Normalization c, long[] shape) : base(c.Name)
        {
            _c = c;
            long[] withBatch = [1, .. shape];
            mean = c.Mean is { ValueKind: not JsonValueKind.Null } m ? tensor(Values(m)!).expand(shape).reshape(withBatch).clone() : zeros(withBatch);
            variance = c.Variance is { ValueKind: not JsonValueKind.Null } v ? tensor(Values(v)!).expand(shape).reshape(withBatch).clone() : ones(withBatch);
            _reduce = Enumerable.Range(0, withBatch.Length).Where(i => withBatch[i] == 1).Select(i => (long)i).ToArray();
            register_buffer("mean", mean);
            register_buffer("variance", variance);
        }

        public string Name => _c.Name;

        public bool NeedsAdapting => _c.Mean is not { ValueKind: not JsonValueKind.Null };

        public void BeginAdapting()
        {
            _sum = zeros(mean.shape, ScalarType.Float64);
            _squares = zeros(mean.shape, ScalarType.Float64);
            _count = 0;
        }

        public void EndAdapting()
        {
            using var _ = no_grad();
            if (_sum is null || _squares is null || _count == 0) throw new InvalidDataException($"Normalization '{_c.Name}' saw no data to adapt to");
            using var m = _sum / _count;
            using var var = (_squares / _count - m.square()).clamp_min(0);
            mean.copy_(m.to(ScalarType.Float32));
            variance.copy_(var.to(ScalarType.Float32));
            _sum.Dispose();
            _squares.Dispose();
            (_sum, _squares) = (null, null);
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.is_floating_point() ? input : input.to(ScalarType.Float32);
            if (_sum is not null && _squares is not null)
            {
                using var d = x.detach().to(ScalarType.Float64);
                _sum.add_(d.sum(_reduce, keepdim: true));
                _squares.add_(d.square().sum(_reduce, keepdim: true));
                _count += x.numel() / mean.numel();
                return x;
            }
            var std = variance.sqrt().clamp_min(1e-7);
            return _c.Invert ? mean + x * std : (x - mean) / std;
        }
    }
}

/// <summary>A layer whose state is computed from the training data before training (Keras's <c>adapt</c>): the
/// engine runs the training split through the model once per such layer, between Begin and End.</summary>
internal interface IAdaptable
{
    /// <summary>The layer's name (its weights' prefix).</summary>
    string Name { get; }
    bool NeedsAdapting { get; }
    void BeginAdapting();
    void EndAdapting();
}
