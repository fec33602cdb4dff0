namespace TrainingService.Training.Metrics;

/// <summary>A compiled metric before it meets data: its log key and direction are known; <see cref="Create"/> makes a
/// fresh stateful metric once the output and target shapes are (this is where <c>"accuracy"</c> is resolved).</summary>
public sealed class MetricSpec(string name, MetricConfig config)
{
    /// <summary>The log key without output or <c>val_</c> prefixes: the user's string, or the object's name.</summary>
    public string Name { get; } = name;
    public MetricConfig Config { get; } = config;
    public bool HigherIsBetter => Config.HigherIsBetter;

    /// <param name="outputShape">Per-example output shape.</param>
    /// <param name="targetShape">Per-example target shape, [] for one class label per example; null if unknown.</param>
    public Metric Create(int[] outputShape, int[]? targetShape) => Config.Create(Name, outputShape, targetShape);

    public override string ToString() => Name;
}
