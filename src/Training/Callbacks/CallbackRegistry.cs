using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Callbacks;

/// <summary>The callbacks a fit may ask for, by Keras class name: <c>{"type": "EarlyStopping", "patience": 3}</c>,
/// Keras's <c>{"class_name": "EarlyStopping", "config": {…}}</c>, or just the name for the defaults.</summary>
public static class CallbackRegistry
{
    private static readonly Dictionary<string, Type> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["EarlyStopping"] = typeof(EarlyStopping),
        ["ReduceLROnPlateau"] = typeof(ReduceLROnPlateau),
    };

    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Each callback's Keras name and config record, for the catalog.</summary>
    public static IEnumerable<(string Name, Type Config)> Entries => ByName.Select(kv => (kv.Key, kv.Value));

    public static CallbackConfig? Parse(JsonElement value, string path, List<SpecError> errors)
    {
        var obj = KerasObject.Read(value, path, "callback", Names, errors);
        if (obj is null) return null;
        if (!ByName.TryGetValue(obj.Type, out var type))
        {
            errors.Add(new SpecError(obj.IsName ? path : ConfigBinder.Join(path, obj.ConfigPath == path ? "type" : "class_name"),
                $"unknown callback \"{obj.Type}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        var before = errors.Count;
        var config = (CallbackConfig?)ConfigBinder.Bind(type, obj.ConfigElement(), obj.ConfigPath, errors);
        if (config is null) return null;
        errors.AddRange(config.Validate(obj.ConfigPath));
        return errors.Count == before ? config : null;
    }
}
