using System.Text.Json;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras ZeroPadding2D on (H, W, C): <c>padding</c> is an int (all sides), <c>[rows, cols]</c>
/// (symmetric), or <c>[[top, bottom], [left, right]]</c>.</summary>
public sealed record ZeroPadding2D : Layer
{
    public Padding2D Padding { get; init; } = new(1, 1, 1, 1);
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3, x.Rank < 3 ? "add Reshape to (H, W, C)" : null);
        var p = Padding;
        return [new Shape(x[0] < 0 ? -1 : x[0] + p.Top + p.Bottom, x[1] < 0 ? -1 : x[1] + p.Left + p.Right, x[2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Padding);

    private sealed class Module(string name, Padding2D p) : UnaryModule(name)
    {
        // Channels-last: F.pad lists C, then W, then H.
        private readonly long[] _pad = [0, 0, p.Left, p.Right, p.Top, p.Bottom];

        public override Tensor Forward(Tensor input, ForwardContext context) => nn.functional.pad(input, _pad);
    }
}

/// <summary>ZeroPadding2D's <c>padding</c> in any of Keras's three forms.</summary>
public sealed record Padding2D(int Top, int Bottom, int Left, int Right) : IConfigValue<Padding2D>
{
    public static Padding2D? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        static bool Int(JsonElement e, out int v)
        {
            v = 0;
            return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out v) && v >= 0;
        }
        if (Int(value, out var all)) return new Padding2D(all, all, all, all);
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2)
        {
            var (a, b) = (value[0], value[1]);
            if (Int(a, out var rows) && Int(b, out var cols)) return new Padding2D(rows, rows, cols, cols);
            if (a.ValueKind == JsonValueKind.Array && b.ValueKind == JsonValueKind.Array && a.GetArrayLength() == 2 && b.GetArrayLength() == 2
                && Int(a[0], out var t) && Int(a[1], out var bo) && Int(b[0], out var l) && Int(b[1], out var r))
                return new Padding2D(t, bo, l, r);
        }
        errors.Add(new SpecError(path, $"expected a non-negative integer, [rows, cols] or [[top, bottom], [left, right]], got {value.GetRawText()}"));
        return null;
    }

    public object Describe() => new[] { new[] { Top, Bottom }, new[] { Left, Right } };
}
