using System.Text.Json;

namespace TrainingService.Training.Specs;

/// <summary>A config key holding a list of numbers (schedule values, AUC thresholds).</summary>
public sealed class NumberList(IReadOnlyList<double> items) : IConfigValue<NumberList>
{
    public IReadOnlyList<double> Items { get; } = items;

    public static NumberList? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
            return new NumberList(value.EnumerateArray().Select(e => e.GetDouble()).ToArray());
        errors.Add(new SpecError(path, $"expected a list of numbers, got {ConfigBinder.Describe(value)}"));
        return null;
    }

    public object Describe() => Items;
}
