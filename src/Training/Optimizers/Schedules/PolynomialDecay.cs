using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras PolynomialDecay: <c>(initial − end)·(1 − s/decay_steps)^power + end</c> with s capped at decay_steps,
/// or, when <c>cycle</c>, decay_steps stretched to the next multiple that covers the step.</summary>
public sealed record PolynomialDecay : LearningRateSchedule
{
    [Range(0)] public required double InitialLearningRate { get; init; }
    [Range(1)] public required long DecaySteps { get; init; }
    [Range(0)] public double EndLearningRate { get; init; } = 0.0001;
    [Range(0)] public double Power { get; init; } = 1.0;
    public bool Cycle { get; init; }

    public override double At(long step)
    {
        double decaySteps = DecaySteps;
        double s = step;
        if (Cycle)
        {
            var multiplier = step == 0 ? 1.0 : Math.Ceiling(s / DecaySteps);
            decaySteps *= multiplier;
        }
        else s = Math.Min(s, decaySteps);
        return (InitialLearningRate - EndLearningRate) * Math.Pow(1 - s / decaySteps, Power) + EndLearningRate;
    }
}
