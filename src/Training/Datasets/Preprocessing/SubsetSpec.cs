namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>A seeded sample of each split for quick runs; null keeps the whole split.</summary>
public sealed record SubsetSpec(int? Train, int? Test);
