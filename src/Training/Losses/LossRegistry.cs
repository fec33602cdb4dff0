using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Losses;

/// <summary>
/// Keras's losses by function name and alias (<c>"categorical_crossentropy"</c>, <c>"mse"</c>), by class name
/// (<c>"CategoricalCrossentropy"</c>), as objects (<c>{"type": "Huber", "delta": 2}</c> or Keras's
/// <c>{"class_name": "Huber", "config": {…}}</c>) and as Keras 3's function records
/// (<c>{"module": "builtins", "class_name": "function", "config": "sparse_categorical_crossentropy"}</c>).
/// </summary>
public static class LossRegistry
{
    private static readonly (string Function, string Class, Type Type, string[] Aliases)[] Table =
    [
        ("categorical_crossentropy", "CategoricalCrossentropy", typeof(CategoricalCrossentropy), []),
        ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", typeof(SparseCategoricalCrossentropy), []),
        ("binary_crossentropy", "BinaryCrossentropy", typeof(BinaryCrossentropy), ["bce"]),
        ("mean_squared_error", "MeanSquaredError", typeof(MeanSquaredError), ["mse"]),
        ("mean_absolute_error", "MeanAbsoluteError", typeof(MeanAbsoluteError), ["mae"]),
        ("mean_absolute_percentage_error", "MeanAbsolutePercentageError", typeof(MeanAbsolutePercentageError), ["mape"]),
        ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", typeof(MeanSquaredLogarithmicError), ["msle"]),
        ("huber", "Huber", typeof(Huber), ["huber_loss"]),
        ("kl_divergence", "KLDivergence", typeof(KLDivergence), ["kld", "kullback_leibler_divergence"]),
        ("poisson", "Poisson", typeof(Poisson), []),
        ("hinge", "Hinge", typeof(Hinge), []),
        ("squared_hinge", "SquaredHinge", typeof(SquaredHinge), []),
        ("categorical_hinge", "CategoricalHinge", typeof(CategoricalHinge), []),
        ("log_cosh", "LogCosh", typeof(LogCosh), ["logcosh"]),
        ("cosine_similarity", "CosineSimilarity", typeof(CosineSimilarity), []),
    ];

    private static readonly Dictionary<string, Type> ByName = BuildIndex();

    /// <summary>The accepted names: Keras's function names, aliases and class names.</summary>
    public static IEnumerable<string> Names => Table.SelectMany(e => new[] { e.Function }.Concat(e.Aliases).Append(e.Class));

    /// <summary>Each loss's function name, other accepted names and config record, for the catalog.</summary>
    public static IEnumerable<(string Name, string[] Aliases, Type Config)> Entries =>
        Table.Select(e => (e.Function, e.Aliases.Append(e.Class).ToArray(), e.Type));

    /// <summary>Keras's function name of a loss (<c>categorical_crossentropy</c>).</summary>
    public static string NameOf(Loss loss) => Table.First(e => e.Type == loss.GetType()).Function;

    /// <summary>Reads a loss. The name is the user's string for names (Keras keeps it for log keys), otherwise Keras's
    /// function name of the class.</summary>
    public static (string Name, Loss Loss)? Parse(JsonElement value, string path, List<SpecError> errors)
    {
        var obj = KerasObject.Read(value, path, "loss", Names, errors);
        if (obj is null) return null;
        var typeName = obj.Type;
        var isName = obj.IsName;
        if (typeName == "function" && obj.Config["__value"] is JsonValue fn)
        {
            typeName = fn.GetValue<string>();
            isName = true;
        }
        if (!ByName.TryGetValue(typeName, out var type))
        {
            errors.Add(new SpecError(obj.IsName || typeName != obj.Type ? path : ConfigBinder.Join(path, obj.ConfigPath == path ? "type" : "class_name"),
                $"unknown loss \"{typeName}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        if (isName) return (typeName, (Loss)Activator.CreateInstance(type)!);

        var before = errors.Count;
        obj.Take("name");
        obj.Take("dtype");
        var reduction = obj.Take("reduction");
        if (reduction is not null && reduction.GetValueKind() == JsonValueKind.String
            && reduction.GetValue<string>() is not ("sum_over_batch_size" or "auto"))
            errors.Add(new SpecError(ConfigBinder.Join(obj.ConfigPath, "reduction"),
                $"\"{reduction.GetValue<string>()}\" is not supported; the engine reduces as sum_over_batch_size"));
        var axis = obj.Take("axis");
        if (axis is not null && axis.GetValueKind() != JsonValueKind.Null && axis.ToJsonString() != "-1")
            errors.Add(new SpecError(ConfigBinder.Join(obj.ConfigPath, "axis"), $"only -1 (the last axis) is supported, got {axis.ToJsonString()}"));
        var ignoreClass = obj.Take("ignore_class");
        if (ignoreClass is not null && ignoreClass.GetValueKind() != JsonValueKind.Null)
            errors.Add(new SpecError(ConfigBinder.Join(obj.ConfigPath, "ignore_class"), "is not supported; leave it null"));
        var loss = (Loss?)ConfigBinder.Bind(type, obj.ConfigElement(), obj.ConfigPath, errors);
        if (loss is null || errors.Count > before) return null;
        return (Table.First(e => e.Type == type).Function, loss);
    }

    private static Dictionary<string, Type> BuildIndex()
    {
        var map = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in Table)
        {
            map[e.Function] = e.Type;
            map[e.Class] = e.Type;
            foreach (var a in e.Aliases) map[a] = e.Type;
        }
        return map;
    }
}
