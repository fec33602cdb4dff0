namespace TrainingService.Training.Engine;

/// <summary>What a dataset feeds a model, after preprocessing: one entry per model input (per-example shape in
/// Keras order, and whether values are integer indices) and per model output (per-example target shape, and the
/// number of classes when targets are integer class labels).</summary>
public sealed record DataSignature(IReadOnlyList<InputSignature> Inputs, IReadOnlyList<TargetSignature> Targets);

public sealed record InputSignature(int[] Shape, bool IsInteger);

/// <summary><paramref name="Shape"/> is [] for one integer label per example; <paramref name="Classes"/> is set for
/// class labels (integer or one-hot).</summary>
public sealed record TargetSignature(int[] Shape, bool IsInteger, int? Classes);
