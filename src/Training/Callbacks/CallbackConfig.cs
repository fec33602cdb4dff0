using TrainingService.Training.Specs;

namespace TrainingService.Training.Callbacks;

/// <summary>A Keras callback's config (Keras's keys and defaults). <see cref="Create"/> makes the working callback for one
/// fit; <paramref name="knownLogKeys"/> are the log keys the run produces with their direction (for <c>mode="auto"</c>).</summary>
public abstract record CallbackConfig
{
    /// <summary>The log key the callback watches, when it watches one.</summary>
    public virtual string? Monitor => null;

    public abstract Callback Create(IReadOnlyList<(string Name, bool HigherIsBetter)> knownLogKeys);

    public virtual IEnumerable<SpecError> Validate(string path) => [];

    /// <summary>Keras 3's EarlyStopping "auto" rule: <c>loss</c> (after removing <c>val_</c>) is minimised, otherwise the
    /// metric's direction; null when the metric is unknown.</summary>
    public static bool? HigherIsBetter(string monitor, IReadOnlyList<(string Name, bool HigherIsBetter)> knownLogKeys)
    {
        var name = monitor.StartsWith("val_", StringComparison.Ordinal) ? monitor["val_".Length..] : monitor;
        if (name == "loss" || name.EndsWith("_loss", StringComparison.Ordinal)) return false;
        foreach (var (key, higher) in knownLogKeys)
            if (key == monitor || key == name) return higher;
        return null;
    }
}
