namespace TrainingService.Persistence.Tuning;

/// <summary>Values of <see cref="Runs.Run.Role"/>. Stored as text so the table reads the way the API answers.</summary>
public static class RunRoles
{
    /// <summary>A run submitted with <c>cross_validation</c>: it trains nothing itself; its folds (and refit) do.</summary>
    public const string CrossValidation = "cross_validation";

    /// <summary>Trains on every fold but one, validates on that one.</summary>
    public const string Fold = "fold";

    /// <summary>Trains on the whole training split after the folds; its model is the cross-validation run's model.</summary>
    public const string Refit = "refit";

    /// <summary>One point of a sweep's search space.</summary>
    public const string Trial = "trial";

    /// <summary>A copy of a sweep's best trial under the sweep's <c>promote_to</c> name.</summary>
    public const string Promoted = "promoted";
}
