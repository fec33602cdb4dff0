using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>
/// Keras's optimizers by name (<c>"adam"</c>, <c>"Adam"</c>, <c>"SGD"</c> …), as <c>{"type": "Adam", …}</c>, or as
/// Keras/tf.keras serialized them (<c>{"class_name": "Custom&gt;Adam", "config": {…}}</c>), including Keras 2's
/// <c>lr</c> and <c>decay</c> keys (decay becomes an InverseTimeDecay with <c>decay_steps = 1</c>, as Keras 2 applied it).
/// </summary>
public static class OptimizerRegistry
{
    private static readonly Dictionary<string, Type> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SGD"] = typeof(Sgd),
        ["Adam"] = typeof(Adam),
        ["AdamW"] = typeof(AdamW),
        ["RMSprop"] = typeof(RMSprop),
        ["Adagrad"] = typeof(Adagrad),
        ["Adadelta"] = typeof(Adadelta),
        ["Adamax"] = typeof(Adamax),
        ["Nadam"] = typeof(Nadam),
    };

    /// <summary>Keras base-optimizer keys that carry no meaning here (bookkeeping, or features at their off value).</summary>
    private static readonly string[] Ignored = ["name", "jit_compile", "is_legacy_optimizer", "ema_momentum", "ema_overwrite_frequency"];

    /// <summary>Keys accepted only at their "off" value.</summary>
    private static readonly string[] OnlyOff = ["use_ema", "loss_scale_factor", "gradient_accumulation_steps"];

    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Each optimizer's Keras name and config record, for the catalog.</summary>
    public static IEnumerable<(string Name, Type Config)> Entries => ByName.Select(kv => (kv.Key, kv.Value));

    /// <summary>Keras's compile default.</summary>
    public static OptimizerConfig Default => new RMSprop();

    public static OptimizerConfig? Parse(JsonElement value, string path, List<SpecError> errors)
    {
        var obj = KerasObject.Read(value, path, "optimizer", Names, errors);
        if (obj is null) return null;
        if (!ByName.TryGetValue(obj.Type, out var type))
        {
            errors.Add(new SpecError(obj.IsName ? path : ConfigBinder.Join(path, obj.ConfigPath == path ? "type" : "class_name"),
                $"unknown optimizer \"{obj.Type}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        var before = errors.Count;
        var at = (string key) => ConfigBinder.Join(obj.ConfigPath, key);
        foreach (var key in Ignored) obj.Take(key);
        foreach (var key in OnlyOff)
        {
            var v = obj.Take(key);
            if (v is null || v.GetValueKind() == JsonValueKind.False) continue;
            errors.Add(new SpecError(at(key), $"is not supported here ({v.ToJsonString()}); leave it out"));
        }
        // Keras 2.2 wrote epsilon: null for "the backend epsilon", which is also the default.
        if (obj.Config.TryGetPropertyValue("epsilon", out var eps) && eps is null) obj.Config.Remove("epsilon");
        if (obj.Config.TryGetPropertyValue("lr", out var lr))
        {
            obj.Config.Remove("lr");
            if (obj.Config.ContainsKey("learning_rate")) errors.Add(new SpecError(at("lr"), "give learning_rate or the legacy lr, not both"));
            else obj.Config["learning_rate"] = lr;
        }
        LearningRateSchedule? schedule = null;
        if (obj.Config.TryGetPropertyValue("learning_rate", out var rate) && rate is JsonObject)
        {
            obj.Config.Remove("learning_rate");
            schedule = ScheduleRegistry.Parse(JsonSerializer.SerializeToElement(rate), at("learning_rate"), errors);
        }
        var decay = obj.Take("decay");
        var config = (OptimizerConfig?)ConfigBinder.Bind(type, obj.ConfigElement(), obj.ConfigPath, errors);
        if (config is null || errors.Count > before) return null;
        if (decay is not null && decay.GetValueKind() != JsonValueKind.Null)
        {
            var d = decay.GetValueKind() == JsonValueKind.Number ? decay.GetValue<double>() : -1;
            if (d < 0) errors.Add(new SpecError(at("decay"), $"expected a number >= 0, got {decay.ToJsonString()}"));
            else if (d > 0 && schedule is not null) errors.Add(new SpecError(at("decay"), "cannot be combined with a learning-rate schedule"));
            else if (d > 0) schedule = new InverseTimeDecay { InitialLearningRate = config.InitialLearningRate, DecaySteps = 1, DecayRate = d };
        }
        if (new[] { config.Clipnorm, config.Clipvalue, config.GlobalClipnorm }.Count(c => c is not null) > 1)
            errors.Add(new SpecError(obj.ConfigPath, "only one of clipnorm, clipvalue and global_clipnorm can be set (as in Keras)"));
        if (errors.Count > before) return null;
        return schedule is null ? config : config with { Schedule = schedule };
    }
}
