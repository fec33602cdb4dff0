using TrainingService.Training.Losses;
using TrainingService.Training.Metrics;
using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>One model output's loss (with its Keras name and weight in the total) and metrics.</summary>
public sealed record OutputCompile(string OutputName, string LossName, Loss Loss, double LossWeight, IReadOnlyList<MetricSpec> Metrics);

/// <summary>
/// Keras <c>compile</c> arguments, resolved per output. The total loss is Σ weight·loss over outputs, as Keras adds them.
/// Log keys follow Keras 3: <c>loss</c>; with several outputs also <c>{output}_loss</c>; each metric under its name,
/// prefixed <c>{output}_</c> when there are several outputs, with <c>_1</c>, <c>_2</c> … added to repeated keys.
/// </summary>
public sealed class CompileOptions(OptimizerConfig optimizer, IReadOnlyList<OutputCompile> outputs)
{
    public OptimizerConfig Optimizer { get; } = optimizer;
    public IReadOnlyList<OutputCompile> Outputs { get; } = outputs;

    /// <summary>The log key of each output's each metric (without <c>val_</c>), in <see cref="Outputs"/> order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> MetricKeys => _metricKeys ??= BuildMetricKeys();
    private IReadOnlyList<IReadOnlyList<string>>? _metricKeys;

    /// <summary>Per-output loss keys (<c>{output}_loss</c>) when there are several outputs, else none.</summary>
    public IReadOnlyList<string> OutputLossKeys => Outputs.Count > 1 ? Outputs.Select(o => $"{o.OutputName}_loss").ToArray() : [];

    /// <summary>Every key of an epoch's logs with its direction (true = higher is better), <c>val_</c> keys included when
    /// <paramref name="withValidation"/>.</summary>
    public IReadOnlyList<(string Name, bool HigherIsBetter)> LogKeys(bool withValidation)
    {
        var keys = new List<(string, bool)> { ("loss", false) };
        keys.AddRange(OutputLossKeys.Select(k => (k, false)));
        for (var o = 0; o < Outputs.Count; o++)
            for (var m = 0; m < Outputs[o].Metrics.Count; m++)
                keys.Add((MetricKeys[o][m], Outputs[o].Metrics[m].HigherIsBetter));
        if (withValidation) keys.AddRange(keys.ToArray().Select(k => ("val_" + k.Item1, k.Item2)));
        return keys;
    }

    /// <summary>Checks targets against each output's loss (and shape): e.g. sparse_categorical_crossentropy needs integer
    /// labels, binary_crossentropy on a 10-unit output with class labels is refused. <paramref name="path"/> prefixes the
    /// errors (<c>{path}[i]</c> per output).</summary>
    public IReadOnlyList<SpecError> CheckTargets(IReadOnlyList<int[]> outputShapes, IReadOnlyList<TargetSignature> targets, string path)
    {
        var errors = new List<SpecError>();
        if (targets.Count != Outputs.Count)
        {
            errors.Add(new SpecError(path, $"the model has {Outputs.Count} output(s) ({string.Join(", ", Outputs.Select(o => o.OutputName))}) but the data has {targets.Count} target(s)"));
            return errors;
        }
        for (var i = 0; i < Outputs.Count; i++)
        {
            var at = Outputs.Count == 1 ? path : $"{path}[{i}]";
            foreach (var message in Outputs[i].Loss.CheckTargets(outputShapes[i], targets[i]))
                errors.Add(new SpecError(at, Outputs.Count == 1 ? message : $"output {Outputs[i].OutputName}: {message}"));
        }
        return errors;
    }

    private IReadOnlyList<IReadOnlyList<string>> BuildMetricKeys()
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<IReadOnlyList<string>>();
        foreach (var output in Outputs)
        {
            var keys = new List<string>();
            foreach (var metric in output.Metrics)
            {
                var name = Outputs.Count > 1 ? $"{output.OutputName}_{metric.Name}" : metric.Name;
                if (seen.TryGetValue(name, out var count))
                {
                    seen[name] = count + 1;
                    name = $"{name}_{count}";
                }
                else seen[name] = 1;
                keys.Add(name);
            }
            result.Add(keys);
        }
        return result;
    }
}
