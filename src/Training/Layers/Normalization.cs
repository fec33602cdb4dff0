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
    /// <summary>An int, a list, or null (all axes together). The default is a value, -1, so that an explicit null (which
    /// the binder gives as a null property) still means "all axes".</summary>
    public JsonElement? Axis { get; init; } = LastAxis;

    private static readonly JsonElement LastAxis = JsonDocument.Parse("-1").RootElement.Clone();
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
    internal int[] KeptAxes(Shape x)
    {
        if (Axis is not { ValueKind: not JsonValueKind.Null } a) return [];
        var axes = a.ValueKind == JsonValueKind.Number ? new Axes(a.GetInt32()) : new Axes(a.EnumerateArray().Select(e => e.GetInt32()).ToArray());
        return axes.Resolve(x.Rank + 1, x).Select(i => i - 1).ToArray();
    }

    /// <summary>The statistics' shape, broadcastable against one example.</summary>
    internal long[] StatShape(Shape x)
    {
        var kept = KeptAxes(x);
        var shape = Enumerable.Range(0, x.Rank).Select(i => kept.Contains(i) ? (long)x[i] : 1L).ToArray();
        if (shape.Any(d => d < 0)) throw Expects("known sizes on the normalized axes", x);
        return shape;
    }

    /// <summary>Whether the config gives the statistics (then Keras creates no variables for them).</summary>
    internal bool HasConfigStatistics => Mean is { ValueKind: not JsonValueKind.Null };

    /// <summary>The shape Keras gives the mean and variance variables: the sizes of the kept axes (<c>()</c> for
    /// <c>axis=None</c>). The engine keeps them broadcastable, (1, …) with 1 on the reduced axes: the same values in the
    /// same order.</summary>
    internal long[] KerasStatisticsShape(Shape x) => KeptAxes(x).Select(i => (long)x[i]).ToArray();

    /// <summary>The engine's mean and variance: from the config, or Keras's initial zeros and ones before adapting.</summary>
    internal (Tensor Mean, Tensor Variance) InitialStatistics(Shape x)
    {
        var shape = StatShape(x);
        long[] withBatch = [1, .. shape];
        var mean = Mean is { ValueKind: not JsonValueKind.Null } m ? tensor(Values(m)!).expand(shape).reshape(withBatch).clone() : zeros(withBatch);
        var variance = Variance is { ValueKind: not JsonValueKind.Null } v ? tensor(Values(v)!).expand(shape).reshape(withBatch).clone() : ones(withBatch);
        return (mean, variance);
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

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0]);

    internal sealed class Module : UnaryModule, IAdaptable
    {
        private readonly Tensor mean, variance;
        private readonly Normalization _c;
        private readonly long[] _reduce;
        private Tensor? _sum, _squares;
        private long _count;

        public Module(Normalization c, Shape input) : base(c.Name)
        {
            _c = c;
            (mean, variance) = c.InitialStatistics(input);
            long[] withBatch = [.. mean.shape];
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
