using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras's learning-rate schedules by class name, read from <c>learning_rate</c> objects.</summary>
public static class ScheduleRegistry
{
    private static readonly Dictionary<string, Type> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ExponentialDecay"] = typeof(ExponentialDecay),
        ["InverseTimeDecay"] = typeof(InverseTimeDecay),
        ["CosineDecay"] = typeof(CosineDecay),
        ["PiecewiseConstantDecay"] = typeof(PiecewiseConstantDecay),
        ["PolynomialDecay"] = typeof(PolynomialDecay),
    };

    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Each schedule's Keras name and config record, for the catalog.</summary>
    public static IEnumerable<(string Name, Type Config)> Entries => ByName.Select(kv => (kv.Key, kv.Value));

    public static LearningRateSchedule? Parse(JsonElement value, string path, List<SpecError> errors)
    {
        var obj = KerasObject.Read(value, path, "learning-rate schedule", Names, errors);
        if (obj is null) return null;
        if (!ByName.TryGetValue(obj.Type, out var type))
        {
            errors.Add(new SpecError(path, $"unknown learning-rate schedule \"{obj.Type}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        obj.Take("name");
        var before = errors.Count;
        var schedule = (LearningRateSchedule?)ConfigBinder.Bind(type, obj.ConfigElement(), obj.ConfigPath, errors);
        if (schedule is null) return null;
        errors.AddRange(schedule.Validate(obj.ConfigPath));
        return errors.Count == before ? schedule : null;
    }
}
