using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras PiecewiseConstantDecay (step decay): <c>values[0]</c> while step ≤ <c>boundaries[0]</c>,
/// <c>values[i]</c> while <c>boundaries[i−1]</c> &lt; step ≤ <c>boundaries[i]</c>, the last value after the last boundary.</summary>
public sealed record PiecewiseConstantDecay : LearningRateSchedule
{
    public required int[] Boundaries { get; init; }
    public required NumberList Values { get; init; }

    public override double At(long step)
    {
        for (var i = 0; i < Boundaries.Length; i++)
            if (step <= Boundaries[i]) return Values.Items[i];
        return Values.Items[^1];
    }

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Values.Items.Count != Boundaries.Length + 1)
            yield return new SpecError(ConfigBinder.Join(path, "values"),
                $"needs one more value than boundaries ({Boundaries.Length + 1}), got {Values.Items.Count}");
        if (Boundaries.Zip(Boundaries.Skip(1)).Any(p => p.Second <= p.First))
            yield return new SpecError(ConfigBinder.Join(path, "boundaries"), "must be strictly increasing");
        if (Values.Items.Any(v => v <= 0))
            yield return new SpecError(ConfigBinder.Join(path, "values"), "learning rates must be > 0");
    }
}
