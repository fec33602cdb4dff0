namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>The predictions for one instance, one per model output.</summary>
public sealed record InstancePrediction(IReadOnlyList<TargetPrediction> Outputs);

/// <summary>A class output gives <see cref="ClassIndex"/>, <see cref="ClassName"/> and the class
/// <see cref="Probabilities"/>; a value output (regression) gives <see cref="Values"/>.</summary>
public sealed record TargetPrediction(string Name, int? ClassIndex, string? ClassName, float[]? Probabilities, float[]? Values);
