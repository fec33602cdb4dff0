namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>One model output's target. Class targets have <see cref="ClassNames"/> (index → name) and are integer
/// indices, or one-hot rows when <see cref="OneHot"/>; value targets (CSV regression) have neither.</summary>
public sealed record FittedTarget(string Name, string? Column, IReadOnlyList<string>? ClassNames, bool OneHot)
{
    public bool IsClass => ClassNames is not null;
}
