using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>An augmentation layer's <c>factor</c>: a number <c>f</c> (the range −f … f, or for RandomContrast
/// 1 − f … 1 + f) or a pair <c>[lower, upper]</c> as Keras 3 writes it back.</summary>
public sealed class Factor(double lower, double upper, bool pair) : IConfigValue<Factor>
{
    public double Lower { get; } = lower;
    public double Upper { get; } = upper;

    /// <summary>Written as a list (Keras 3's get_config) rather than a single number.</summary>
    public bool Pair { get; } = pair;

    public static Factor? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            var f = Math.Abs(value.GetDouble());
            return new Factor(-f, f, false);
        }
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2 && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
        {
            var v = value.EnumerateArray().Select(e => e.GetDouble()).ToArray();
            return new Factor(Math.Min(v[0], v[1]), Math.Max(v[0], v[1]), true);
        }
        errors.Add(new SpecError(path, $"expected a number or a list of two numbers, got {ConfigBinder.Describe(value)}"));
        return null;
    }

    /// <summary>A refusal when the range leaves [<paramref name="min"/>, <paramref name="max"/>] (Keras's bounds).</summary>
    public SpecError? Check(string path, double min, double max) =>
        Lower < min || Upper > max ? new SpecError(path, $"{Text()} must lie within [{min}, {max}] (as in Keras)") : null;

    private string Text() => Pair ? $"[{Lower}, {Upper}]" : $"{Upper}";

    public object Describe() => Pair ? new[] { Lower, Upper } : Upper;
}
