using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>An <c>axis</c> key that Keras writes as an int (Keras 3) or a list (tf.keras writes BatchNormalization's as
/// <c>[3]</c>). Axes count the batch axis as 0, as in Keras, so -1 and the last index both mean channels.</summary>
public sealed class Axes : IConfigValue<Axes>
{
    public Axes(params int[] values) => Values = values;

    public int[] Values { get; }

    public static Axes? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var single)) return new Axes(single);
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0
            && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)))
            return new Axes(value.EnumerateArray().Select(e => e.GetInt32()).ToArray());
        errors.Add(new SpecError(path, $"expected an axis (integer) or a non-empty list of axes, got {ConfigBinder.Describe(value)}"));
        return null;
    }

    /// <summary>The axes as indices into a tensor of <paramref name="rankWithBatch"/> dimensions (batch = 0), or a
    /// <see cref="ShapeException"/> when one names the batch axis or lies outside the tensor.</summary>
    public int[] Resolve(int rankWithBatch, Shape input)
    {
        var resolved = Values.Select(a => a < 0 ? a + rankWithBatch : a).ToArray();
        foreach (var (a, original) in resolved.Zip(Values))
        {
            if (a <= 0 || a >= rankWithBatch)
                throw new ShapeException($"axis {original} does not name a feature axis of an input {input} (with the batch axis, axes are 1..{rankWithBatch - 1} or -1..-{rankWithBatch - 1})");
        }
        if (resolved.Distinct().Count() != resolved.Length) throw new ShapeException($"axis [{string.Join(", ", Values)}] repeats an axis");
        return resolved.Order().ToArray();
    }

    public object Describe() => Values.Length == 1 ? Values[0] : Values;
}
