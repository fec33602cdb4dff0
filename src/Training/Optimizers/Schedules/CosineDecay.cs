using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras CosineDecay: optional linear warmup from <c>initial_learning_rate</c> to <c>warmup_target</c> over
/// <c>warmup_steps</c>, then <c>from · ((1−α)·½(1 + cos(π·min(s, decay_steps)/decay_steps)) + α)</c>.</summary>
public sealed record CosineDecay : LearningRateSchedule
{
    [Range(0)] public required double InitialLearningRate { get; init; }
    [Range(1)] public required long DecaySteps { get; init; }
    [Range(0, 1)] public double Alpha { get; init; }
    [Range(0)] public double? WarmupTarget { get; init; }
    [Range(0)] public long WarmupSteps { get; init; }

    public override double At(long step)
    {
        if (WarmupTarget is not { } target)
            return Decay(Math.Min(step, DecaySteps), InitialLearningRate);
        var s = Math.Min(step, DecaySteps + WarmupSteps);
        if (s < WarmupSteps) return (target - InitialLearningRate) * ((double)s / WarmupSteps) + InitialLearningRate;
        return Decay(s - WarmupSteps, target);
    }

    private double Decay(long step, double from)
    {
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * step / DecaySteps));
        return from * ((1 - Alpha) * cosine + Alpha);
    }
}
