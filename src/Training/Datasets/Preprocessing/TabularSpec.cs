namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>How a CSV upload becomes model inputs and targets.</summary>
/// <param name="Targets">Target columns; each feeds one model output, in order.</param>
/// <param name="FeatureGroups">Named groups of feature columns, one per model input (a single group named "input"
/// when <c>features</c> is a list); null: every column that is not a target, as one input.</param>
/// <param name="Categorical">Columns one-hot encoded (features) or taken as class labels (targets), besides those
/// inferred as categorical.</param>
/// <param name="Missing">"mean", "median", "most_frequent", "drop", or "constant" (with <see cref="MissingConstant"/>).</param>
public sealed record TabularSpec(
    IReadOnlyList<string> Targets,
    IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>>? FeatureGroups,
    IReadOnlyList<string> Categorical,
    string Missing,
    string? MissingConstant,
    bool Standardize);
