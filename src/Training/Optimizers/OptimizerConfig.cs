using TorchSharp.Modules;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>
/// A Keras optimizer's config (Keras 3 keys). Subclasses add their own keys and build the <see cref="Optimizer"/>.
/// <c>learning_rate</c> is a number or a schedule object; when absent the optimizer's Keras default applies.
/// </summary>
public abstract record OptimizerConfig
{
    /// <summary>A number; a schedule object is read into <see cref="Schedule"/> by the parser.</summary>
    [Range(0, MinExclusive = true)] public double? LearningRate { get; init; }
    [Range(0, MinExclusive = true)] public double? Clipnorm { get; init; }
    [Range(0, MinExclusive = true)] public double? GlobalClipnorm { get; init; }
    [Range(0, MinExclusive = true)] public double? Clipvalue { get; init; }
    /// <summary>Decoupled weight decay (<c>w *= 1 - weight_decay·lr</c> each step), available on every Keras 3 optimizer.</summary>
    [Range(0)] public double? WeightDecay { get; init; }

    [NotConfig] public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Keras's default learning rate for this optimizer.</summary>
    protected abstract double DefaultLearningRate { get; }

    public double InitialLearningRate => Schedule?.At(0) ?? LearningRate ?? DefaultLearningRate;

    public abstract Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters);
}
