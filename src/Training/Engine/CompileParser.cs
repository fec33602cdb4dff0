using System.Text.Json;
using TrainingService.Training.Losses;
using TrainingService.Training.Metrics;
using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>
/// Reads the <c>compile</c> section as Keras's <c>compile()</c> (or a saved Keras 3 <c>compile_config</c> / tf.keras
/// <c>training_config</c>) takes it:
/// <c>{"optimizer": name|object, "loss": name|object|[per output]|{output: loss}, "loss_weights": [..]|{..},
/// "metrics": [..]|[[..] per output]|{output: [..]}}</c>. The optimizer defaults to Keras's <c>rmsprop</c>; a loss is required.
/// A single loss applies to every output; a list of metrics applies to a single output, or gives one entry per output.
/// </summary>
public static class CompileParser
{
    private static readonly string[] Accepted =
        ["optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"];

    public static CompileOptions? Parse(JsonElement? compile, string path, IReadOnlyList<string> outputNames,
        IReadOnlyList<int[]> outputShapes, List<SpecError> errors)
    {
        var before = errors.Count;
        if (compile is null || compile.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            errors.Add(new SpecError(ConfigBinder.Join(path, "loss"), $"is required; accepted losses: {string.Join(", ", LossRegistry.Names)}"));
            return null;
        }
        var c = compile.Value;
        if (c.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, $"expected an object, got {ConfigBinder.Describe(c)}"));
            return null;
        }
        OptimizerConfig? optimizer = OptimizerRegistry.Default;
        JsonElement? loss = null, lossWeights = null, metrics = null;
        foreach (var member in c.EnumerateObject())
        {
            var at = ConfigBinder.Join(path, member.Name);
            var v = member.Value;
            switch (member.Name)
            {
                case "optimizer" or "optimizer_config":
                    if (v.ValueKind != JsonValueKind.Null) optimizer = OptimizerRegistry.Parse(v, at, errors);
                    break;
                case "loss": loss = v; break;
                case "loss_weights": lossWeights = v; break;
                case "metrics": metrics = v; break;
                case "weighted_metrics":
                    if (!IsEmpty(v)) errors.Add(new SpecError(at, "weighted_metrics are not supported; use metrics"));
                    break;
                case "run_eagerly" or "jit_compile" or "auto_scale_loss" or "sample_weight_mode":
                    break;
                case "steps_per_execution":
                    if (v.ValueKind == JsonValueKind.Number && v.GetDouble() != 1)
                        errors.Add(new SpecError(at, "only 1 is supported"));
                    break;
                default:
                    errors.Add(new SpecError(at, $"unknown key; accepted keys are {string.Join(", ", Accepted)}"));
                    break;
            }
        }
        var lossPath = ConfigBinder.Join(path, "loss");
        var losses = loss is { ValueKind: not JsonValueKind.Null } l
            ? ParseLosses(l, lossPath, outputNames, errors)
            : Missing(lossPath, errors);
        var weights = ParseLossWeights(lossWeights, ConfigBinder.Join(path, "loss_weights"), outputNames, errors);
        var metricLists = ParseMetrics(metrics, ConfigBinder.Join(path, "metrics"), outputNames, errors);
        if (errors.Count > before || optimizer is null || losses is null || weights is null || metricLists is null) return null;
        var outputs = outputNames.Select((name, i) =>
            new OutputCompile(name, losses[i].Name, losses[i].Loss, weights[i], metricLists[i])).ToArray();
        return new CompileOptions(optimizer, outputs);
    }

    private static (string Name, Loss Loss)[]? Missing(string path, List<SpecError> errors)
    {
        errors.Add(new SpecError(path, $"is required; accepted losses: {string.Join(", ", LossRegistry.Names)}"));
        return null;
    }

    private static bool IsEmpty(JsonElement v) =>
        v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined
        || v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0
        || v.ValueKind == JsonValueKind.Object && !v.EnumerateObject().Any();

    /// <summary>An object keyed by output names rather than a loss/metric object.</summary>
    private static bool IsPerOutput(JsonElement v) =>
        v.ValueKind == JsonValueKind.Object
        && !v.TryGetProperty("type", out _) && !v.TryGetProperty("class_name", out _) && !v.TryGetProperty("module", out _);

    private static (string Name, Loss Loss)[]? ParseLosses(JsonElement value, string path, IReadOnlyList<string> outputs, List<SpecError> errors)
    {
        var result = new (string, Loss)?[outputs.Count];
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (value.GetArrayLength() != outputs.Count)
            {
                errors.Add(new SpecError(path, $"a list of losses needs one per output ({outputs.Count}: {string.Join(", ", outputs)}), got {value.GetArrayLength()}"));
                return null;
            }
            var i = 0;
            foreach (var item in value.EnumerateArray()) { result[i] = LossRegistry.Parse(item, $"{path}[{i}]", errors); i++; }
        }
        else if (IsPerOutput(value))
        {
            foreach (var p in value.EnumerateObject())
            {
                var index = IndexOf(outputs, p.Name);
                if (index < 0) errors.Add(new SpecError(ConfigBinder.Join(path, p.Name), $"is not an output of the model; outputs: {string.Join(", ", outputs)}"));
                else result[index] = LossRegistry.Parse(p.Value, ConfigBinder.Join(path, p.Name), errors);
            }
            for (var i = 0; i < outputs.Count; i++)
                if (result[i] is null && !value.TryGetProperty(outputs[i], out _))
                    errors.Add(new SpecError(ConfigBinder.Join(path, outputs[i]), "every output needs a loss"));
        }
        else
        {
            // One loss for every output (losses are stateless, so one instance serves all).
            var one = LossRegistry.Parse(value, path, errors);
            for (var i = 0; i < outputs.Count; i++) result[i] = one;
        }
        return result.All(r => r is not null) ? result.Select(r => r!.Value).ToArray() : null;
    }

    private static double[]? ParseLossWeights(JsonElement? value, string path, IReadOnlyList<string> outputs, List<SpecError> errors)
    {
        var result = Enumerable.Repeat(1.0, outputs.Count).ToArray();
        if (value is not { } v || v.ValueKind == JsonValueKind.Null) return result;
        var before = errors.Count;
        void Set(int i, JsonElement w, string at)
        {
            if (w.ValueKind == JsonValueKind.Number && w.GetDouble() >= 0) result[i] = w.GetDouble();
            else errors.Add(new SpecError(at, $"expected a weight >= 0, got {ConfigBinder.Describe(w)}"));
        }
        switch (v.ValueKind)
        {
            case JsonValueKind.Number when outputs.Count == 1:
                Set(0, v, path);
                break;
            case JsonValueKind.Array when v.GetArrayLength() == outputs.Count:
                var i = 0;
                foreach (var w in v.EnumerateArray()) { Set(i, w, $"{path}[{i}]"); i++; }
                break;
            case JsonValueKind.Object:
                foreach (var p in v.EnumerateObject())
                {
                    var index = IndexOf(outputs, p.Name);
                    if (index < 0) errors.Add(new SpecError(ConfigBinder.Join(path, p.Name), $"is not an output of the model; outputs: {string.Join(", ", outputs)}"));
                    else Set(index, p.Value, ConfigBinder.Join(path, p.Name));
                }
                break;
            default:
                errors.Add(new SpecError(path, $"expected one weight per output ({outputs.Count}: {string.Join(", ", outputs)}) as a list or an object by output name, got {ConfigBinder.Describe(v)}"));
                break;
        }
        return errors.Count == before ? result : null;
    }

    private static IReadOnlyList<MetricSpec>[]? ParseMetrics(JsonElement? value, string path, IReadOnlyList<string> outputs, List<SpecError> errors)
    {
        var result = outputs.Select(_ => (IReadOnlyList<MetricSpec>)[]).ToArray();
        if (value is not { } v || IsEmpty(v)) return result;
        var before = errors.Count;
        // tf.keras's training_config nests the list per output even for one output: [[…]].
        if (v.ValueKind == JsonValueKind.Array && outputs.Count == 1 && v.GetArrayLength() == 1 && v[0].ValueKind == JsonValueKind.Array)
            result[0] = ParseMetricList(v[0], $"{path}[0]", errors);
        else if (v.ValueKind == JsonValueKind.Array && outputs.Count == 1)
            result[0] = ParseMetricList(v, path, errors);
        else if (v.ValueKind == JsonValueKind.Array)
        {
            if (v.GetArrayLength() != outputs.Count)
                errors.Add(new SpecError(path, $"with {outputs.Count} outputs ({string.Join(", ", outputs)}), metrics must give one entry (a metric or a list) per output, " +
                    $"or an object by output name; got {v.GetArrayLength()} entries"));
            else
            {
                var i = 0;
                foreach (var item in v.EnumerateArray()) { result[i] = ParseMetricList(item, $"{path}[{i}]", errors); i++; }
            }
        }
        else if (IsPerOutput(v))
        {
            foreach (var p in v.EnumerateObject())
            {
                var index = IndexOf(outputs, p.Name);
                if (index < 0) errors.Add(new SpecError(ConfigBinder.Join(path, p.Name), $"is not an output of the model; outputs: {string.Join(", ", outputs)}"));
                else result[index] = ParseMetricList(p.Value, ConfigBinder.Join(path, p.Name), errors);
            }
        }
        else if (outputs.Count == 1) result[0] = ParseMetricList(v, path, errors);
        else errors.Add(new SpecError(path, "expected a list of metrics, or an object of metrics by output name"));
        return errors.Count == before ? result : null;
    }

    /// <summary>A metric or a list of metrics.</summary>
    private static IReadOnlyList<MetricSpec> ParseMetricList(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
            return value.ValueKind == JsonValueKind.Null ? [] : MetricRegistry.Parse(value, path, errors) is { } one ? [one] : [];
        var result = new List<MetricSpec>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Null && MetricRegistry.Parse(item, $"{path}[{i}]", errors) is { } m) result.Add(m);
            i++;
        }
        return result;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++) if (names[i] == name) return i;
        return -1;
    }
}
