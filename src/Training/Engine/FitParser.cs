using System.Globalization;
using System.Text.Json;
using TrainingService.Training.Callbacks;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>Reads the <c>fit</c> section (Keras's <c>fit</c> keyword arguments); every error carries its path
/// (<c>fit.epochs</c>, <c>fit.callbacks[0].patience</c>).</summary>
public static class FitParser
{
    /// <summary>The keys as bound; <c>verbose</c> is accepted and ignored, <c>initial_epoch</c> and
    /// <c>validation_freq</c> only at Keras's defaults.</summary>
    private sealed record FitKeys
    {
        /// <summary>0 is allowed, as in Keras (fit does nothing): a run of imported Keras weights is then served as it is.</summary>
        [Range(0)] public int Epochs { get; init; } = 1;
        [Range(1)] public int? BatchSize { get; init; } = 32;
        [Range(0, 1, MaxExclusive = true)] public double ValidationSplit { get; init; }
        public bool Shuffle { get; init; } = true;
        [Range(0)] public long? Seed { get; init; } = FitOptions.DefaultSeed;
        public JsonElement? ClassWeight { get; init; }
        public JsonElement? Callbacks { get; init; }
        public int Verbose { get; init; }
        [Range(0, 0)] public int InitialEpoch { get; init; }
        [Range(1, 1)] public int ValidationFreq { get; init; } = 1;
    }

    public static FitOptions? Parse(JsonElement? fit, string path, EngineLimits limits, List<SpecError> errors)
    {
        if (fit is null || fit.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return Check(new FitOptions(), path, limits, errors);
        var before = errors.Count;
        var keys = (FitKeys?)ConfigBinder.Bind(typeof(FitKeys), fit.Value, path, errors);
        if (keys is null) return null;
        var options = new FitOptions
        {
            Epochs = keys.Epochs,
            BatchSize = keys.BatchSize ?? 32,
            ValidationSplit = keys.ValidationSplit,
            Shuffle = keys.Shuffle,
            Seed = keys.Seed ?? FitOptions.DefaultSeed,
            ClassWeight = keys.ClassWeight is { } cw ? ParseClassWeight(cw, ConfigBinder.Join(path, "class_weight"), errors) : null,
            Callbacks = keys.Callbacks is { } cb ? ParseCallbacks(cb, ConfigBinder.Join(path, "callbacks"), errors) : [],
        };
        Check(options, path, limits, errors);
        return errors.Count == before ? options : null;
    }

    private static FitOptions Check(FitOptions options, string path, EngineLimits limits, List<SpecError> errors)
    {
        if (options.Epochs > limits.MaxEpochs)
            errors.Add(new SpecError(ConfigBinder.Join(path, "epochs"), $"{options.Epochs} exceeds the limit of {limits.MaxEpochs} epochs"));
        if (options.BatchSize > limits.MaxBatchSize)
            errors.Add(new SpecError(ConfigBinder.Join(path, "batch_size"), $"{options.BatchSize} exceeds the limit of {limits.MaxBatchSize}"));
        return options;
    }

    /// <summary><c>{"0": 1.0, "1": 5.0}</c> as Keras takes it (class index → weight), or a list indexed by class.</summary>
    private static Dictionary<int, double>? ParseClassWeight(JsonElement value, string path, List<SpecError> errors)
    {
        var result = new Dictionary<int, double>();
        var before = errors.Count;
        void Add(string key, int index, JsonElement w)
        {
            if (w.ValueKind != JsonValueKind.Number || w.GetDouble() < 0)
                errors.Add(new SpecError(ConfigBinder.Join(path, key), $"expected a weight >= 0, got {ConfigBinder.Describe(w)}"));
            else result[index] = w.GetDouble();
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in value.EnumerateObject())
            {
                if (int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) Add(p.Name, index, p.Value);
                else errors.Add(new SpecError(ConfigBinder.Join(path, p.Name), "class_weight keys are class indices (\"0\", \"1\", …)"));
            }
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var w in value.EnumerateArray()) { Add($"[{i}]", i, w); i++; }
        }
        else errors.Add(new SpecError(path, $"expected an object of class index → weight, got {ConfigBinder.Describe(value)}"));
        return errors.Count == before ? result : null;
    }

    private static IReadOnlyList<CallbackConfig> ParseCallbacks(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new SpecError(path, $"expected a list of callbacks, got {ConfigBinder.Describe(value)}; accepted: {string.Join(", ", CallbackRegistry.Names)}"));
            return [];
        }
        var result = new List<CallbackConfig>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (CallbackRegistry.Parse(item, $"{path}[{i}]", errors) is { } callback) result.Add(callback);
            i++;
        }
        return result;
    }
}
