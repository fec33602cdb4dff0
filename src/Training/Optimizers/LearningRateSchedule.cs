namespace TrainingService.Training.Optimizers;

/// <summary>A Keras LearningRateSchedule: the learning rate as a function of the optimizer step (0-based).</summary>
public abstract record LearningRateSchedule
{
    public abstract double At(long step);
}
