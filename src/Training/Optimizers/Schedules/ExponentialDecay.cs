using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras ExponentialDecay: <c>lr = initial · rate^(step/decay_steps)</c>, the exponent floored when
/// <c>staircase</c> (step decay).</summary>
public sealed record ExponentialDecay : LearningRateSchedule
{
    [Range(0, MinExclusive = true)] public required double InitialLearningRate { get; init; }
    [Range(1)] public required long DecaySteps { get; init; }
    [Range(0, MinExclusive = true)] public required double DecayRate { get; init; }
    public bool Staircase { get; init; }

    public override double At(long step)
    {
        var p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return InitialLearningRate * Math.Pow(DecayRate, p);
    }
}
