using TrainingService.Training.Specs;

namespace TrainingService.Training.Metrics;

/// <summary>A Keras metric class's config (Keras's keys and defaults). <see cref="Create"/> makes a fresh, stateful
/// <see cref="Metric"/> for an output of <c>outputShape</c> and targets of <c>targetShape</c> (per example; [] for one
/// class label per example; null when not known yet).</summary>
public abstract record MetricConfig
{
    /// <summary>Keras's default name of the class (<c>precision</c>, <c>auc</c> …), used as the log key of objects without a name.</summary>
    public abstract string DefaultName { get; }

    /// <summary>Keras's <c>_direction</c>: true for "up".</summary>
    public abstract bool HigherIsBetter { get; }

    public abstract Metric Create(string name, int[] outputShape, int[]? targetShape);

    /// <summary>Checks across keys that the binder cannot express.</summary>
    public virtual IEnumerable<SpecError> Validate(string path) => [];
}
