using TrainingService.Training.Callbacks;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>
/// Keras <c>fit</c> arguments: <c>epochs = 1</c>, <c>batch_size = 32</c>, <c>validation_split = 0</c> (the last
/// fraction, taken before shuffling), <c>shuffle = true</c>, <c>class_weight</c> (class index → weight) and
/// <c>callbacks</c>. <see cref="Seed"/> defaults to <see cref="DefaultSeed"/> so that runs are reproducible unless a
/// seed is given (Keras draws a random one).
/// </summary>
public sealed record FitOptions
{
    public const long DefaultSeed = 1337;

    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 32;
    public double ValidationSplit { get; init; }
    public bool Shuffle { get; init; } = true;
    public long Seed { get; init; } = DefaultSeed;
    public IReadOnlyDictionary<int, double>? ClassWeight { get; init; }
    public IReadOnlyList<CallbackConfig> Callbacks { get; init; } = [];

    /// <summary>Checks each callback's <c>monitor</c> against the log keys the run will produce (from
    /// <see cref="CompileOptions.LogKeys"/>): an unknown key, or a <c>val_</c> key without validation data, is an error
    /// naming the available keys; so is ReduceLROnPlateau with a learning-rate schedule (Keras refuses to set it).</summary>
    public IReadOnlyList<SpecError> CheckCallbacks(CompileOptions compile, bool hasValidation, string path = "fit")
    {
        var errors = new List<SpecError>();
        var keys = compile.LogKeys(hasValidation);
        for (var i = 0; i < Callbacks.Count; i++)
        {
            var callback = Callbacks[i];
            var at = $"{path}.callbacks[{i}]";
            if (callback.Monitor is { } monitor && !keys.Any(k => k.Name == monitor))
            {
                var hint = monitor.StartsWith("val_", StringComparison.Ordinal) && !hasValidation
                    ? " (val_ keys need validation_split or validation data)" : "";
                errors.Add(new SpecError($"{at}.monitor",
                    $"\"{monitor}\" is not a logged quantity{hint}; available: {string.Join(", ", keys.Select(k => k.Name))}"));
            }
            if (callback is ReduceLROnPlateau && compile.Optimizer.Schedule is not null)
                errors.Add(new SpecError(at, "ReduceLROnPlateau cannot change a learning rate that follows a schedule (compile.optimizer.learning_rate)"));
        }
        return errors;
    }
}
