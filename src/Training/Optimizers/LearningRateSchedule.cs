using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>A Keras LearningRateSchedule: the learning rate as a function of the optimizer step (0-based, Keras's
/// <c>optimizer.iterations</c> before the update). Subclasses are config records bound by <see cref="ConfigBinder"/>.</summary>
public abstract record LearningRateSchedule
{
    public abstract double At(long step);

    /// <summary>Checks across keys that the binder cannot express.</summary>
    public virtual IEnumerable<SpecError> Validate(string path) => [];
}
