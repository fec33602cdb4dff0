using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras InverseTimeDecay: <c>lr = initial / (1 + rate · step/decay_steps)</c>, floored when <c>staircase</c>.
/// Keras 2's legacy <c>decay</c> optimizer key is this schedule with <c>decay_steps = 1</c>.</summary>
public sealed record InverseTimeDecay : LearningRateSchedule
{
    [Range(0, MinExclusive = true)] public required double InitialLearningRate { get; init; }
    [Range(1)] public required long DecaySteps { get; init; }
    [Range(0)] public required double DecayRate { get; init; }
    public bool Staircase { get; init; }

    public override double At(long step)
    {
        var p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return InitialLearningRate / (1 + DecayRate * p);
    }
}
