using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Losses;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Metrics;

/// <summary>
/// Keras's metrics by name (<c>"accuracy"</c>, <c>"mae"</c>, <c>"AUC"</c> …), as objects (<c>{"type": "AUC",
/// "num_thresholds": 100}</c>, Keras's <c>{"class_name": "AUC", "config": {…}}</c>, tf.keras's
/// <c>{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "fn": "categorical_accuracy"}}</c>).
/// As in Keras, a metric given by a function name or alias is logged under that string; one given by a class name
/// (<c>"CategoricalAccuracy"</c>) or as an object under its <c>name</c> or its class's default name
/// (<c>categorical_accuracy</c>).
/// </summary>
public static class MetricRegistry
{
    private sealed record Entry(string Function, string Class, Type Type, string[] Aliases)
    {
        public bool IsLoss => Type.IsSubclassOf(typeof(Loss));
    }

    private static readonly Entry[] Table =
    [
        new("accuracy", "Accuracy", typeof(ResolvedAccuracy), ["acc"]),
        new("binary_accuracy", "BinaryAccuracy", typeof(BinaryAccuracy), []),
        new("categorical_accuracy", "CategoricalAccuracy", typeof(CategoricalAccuracy), []),
        new("sparse_categorical_accuracy", "SparseCategoricalAccuracy", typeof(SparseCategoricalAccuracy), []),
        new("top_k_categorical_accuracy", "TopKCategoricalAccuracy", typeof(TopKCategoricalAccuracy), []),
        new("sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy", typeof(SparseTopKCategoricalAccuracy), []),
        new("precision", "Precision", typeof(Precision), []),
        new("recall", "Recall", typeof(Recall), []),
        new("auc", "AUC", typeof(AUC), []),
        new("root_mean_squared_error", "RootMeanSquaredError", typeof(RootMeanSquaredError), ["rmse"]),
        new("mean_squared_error", "MeanSquaredError", typeof(Losses.MeanSquaredError), ["mse"]),
        new("mean_absolute_error", "MeanAbsoluteError", typeof(MeanAbsoluteError), ["mae"]),
        new("mean_absolute_percentage_error", "MeanAbsolutePercentageError", typeof(MeanAbsolutePercentageError), ["mape"]),
        new("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", typeof(MeanSquaredLogarithmicError), ["msle"]),
        new("binary_crossentropy", "BinaryCrossentropy", typeof(Losses.BinaryCrossentropy), ["bce"]),
        new("categorical_crossentropy", "CategoricalCrossentropy", typeof(Losses.CategoricalCrossentropy), []),
        new("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", typeof(Losses.SparseCategoricalCrossentropy), []),
        new("kl_divergence", "KLDivergence", typeof(KLDivergence), ["kld"]),
        new("poisson", "Poisson", typeof(Poisson), []),
        new("hinge", "Hinge", typeof(Hinge), []),
        new("squared_hinge", "SquaredHinge", typeof(SquaredHinge), []),
        new("categorical_hinge", "CategoricalHinge", typeof(CategoricalHinge), []),
        new("logcosh", "LogCoshError", typeof(LogCosh), ["log_cosh"]),
    ];

    private static readonly Dictionary<string, Entry> ByName = BuildIndex();

    public static IEnumerable<string> Names =>
        Table.SelectMany(e => new[] { e.Function }.Concat(e.Aliases).Append(e.Class)).Where(n => n != "Accuracy");

    /// <summary>Each metric's function name, other accepted names and config record, for the catalog.</summary>
    public static IEnumerable<(string Name, string[] Aliases, Type Config)> Entries =>
        Table.Select(e => (e.Function, e.Aliases.Append(e.Class).Where(n => n != "Accuracy").ToArray(), e.Type));

    public static MetricSpec? Parse(JsonElement value, string path, List<SpecError> errors)
    {
        var obj = KerasObject.Read(value, path, "metric", Names, errors);
        if (obj is null) return null;
        var typeName = obj.Type;
        string? name = null;
        var isName = obj.IsName;
        if (typeName == "function" && obj.Config["__value"] is JsonValue fn)
        {
            typeName = fn.GetValue<string>();
            isName = true;
        }
        else if (typeName == "MeanMetricWrapper")
        {
            name = obj.Take("name")?.GetValue<string>();
            obj.Take("dtype");
            if (obj.Take("fn") is not JsonValue wrapped || wrapped.GetValueKind() != JsonValueKind.String)
            {
                errors.Add(new SpecError(ConfigBinder.Join(obj.ConfigPath, "fn"), "a MeanMetricWrapper needs the metric function's name in \"fn\""));
                return null;
            }
            typeName = wrapped.GetValue<string>();
            isName = true;
        }
        // Keras resolves the string "Accuracy" like "accuracy"; the Accuracy class (exact equality) is not offered.
        if (!ByName.TryGetValue(typeName, out var entry) || !isName && entry.Type == typeof(ResolvedAccuracy) && typeName != "accuracy")
        {
            errors.Add(new SpecError(obj.IsName || typeName != obj.Type ? path : ConfigBinder.Join(path, obj.ConfigPath == path ? "type" : "class_name"),
                $"unknown metric \"{typeName}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        if (isName)
        {
            // Keras keeps a function name or alias as given ("acc", "mse"), but a class name ("CategoricalAccuracy")
            // builds an instance of the class, which logs under the class's default name ("categorical_accuracy").
            var named = Default(entry);
            var byClass = typeName.Equals(entry.Class, StringComparison.OrdinalIgnoreCase) && entry.Type != typeof(ResolvedAccuracy);
            return new MetricSpec(name ?? (byClass ? named.DefaultName : typeName), named);
        }

        var before = errors.Count;
        var nameNode = obj.Take("name");
        if (nameNode is JsonValue nv && nv.GetValueKind() == JsonValueKind.String) name = nv.GetValue<string>();
        obj.Take("dtype");
        MetricConfig? config;
        if (entry.IsLoss)
        {
            var axis = obj.Take("axis");
            if (axis is not null && axis.GetValueKind() != JsonValueKind.Null && axis.ToJsonString() != "-1")
                errors.Add(new SpecError(ConfigBinder.Join(obj.ConfigPath, "axis"), $"only -1 (the last axis) is supported, got {axis.ToJsonString()}"));
            if (obj.Take("ignore_class") is { } ignore && ignore.GetValueKind() != JsonValueKind.Null)
                errors.Add(new SpecError(ConfigBinder.Join(obj.ConfigPath, "ignore_class"), "is not supported; leave it null"));
            var loss = (Loss?)ConfigBinder.Bind(entry.Type, obj.ConfigElement(), obj.ConfigPath, errors);
            config = loss is null ? null : new LossMetric(loss, entry.Function);
        }
        else config = (MetricConfig?)ConfigBinder.Bind(entry.Type, obj.ConfigElement(), obj.ConfigPath, errors);
        if (config is null) return null;
        errors.AddRange(config.Validate(obj.ConfigPath));
        if (errors.Count > before) return null;
        return new MetricSpec(name ?? config.DefaultName, config);
    }

    private static MetricConfig Default(Entry entry) => entry.IsLoss
        ? new LossMetric((Loss)Activator.CreateInstance(entry.Type)!, entry.Function)
        : (MetricConfig)Activator.CreateInstance(entry.Type)!;

    private static Dictionary<string, Entry> BuildIndex()
    {
        var map = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in Table)
        {
            map[e.Function] = e;
            map[e.Class] = e;
            foreach (var a in e.Aliases) map[a] = e;
        }
        return map;
    }
}
