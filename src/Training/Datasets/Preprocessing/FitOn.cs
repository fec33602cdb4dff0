namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// Chooses the examples of the training split that the preprocessing is fitted on (standardisation statistics,
/// imputation values, category lists), so that a cross-validation fold learns nothing from its held-out part.
/// Given the training split's size and each example's class (of the first class target; null when there is none),
/// returns positions within the training split. A preparer given one calls it exactly once, whatever the dataset;
/// without one, the whole training split is used.
/// </summary>
public delegate int[] FitOn(int trainCount, int[]? trainClasses);
