namespace TrainingService.Training.Datasets;

/// <summary>A catalog entry as the service lists it: the definition, whether its files are on this machine
/// (<see cref="FoundAt"/>), and, when not, <see cref="HowToInstall"/> saying which files to put where.</summary>
public sealed record DatasetInfo(
    string Name,
    string Description,
    DatasetKind Kind,
    int[] InputShape,
    string InputDType,
    int TrainCount,
    int? TestCount,
    IReadOnlyList<string> ClassNames,
    bool Available,
    string? FoundAt,
    bool Downloadable,
    string? HowToInstall,
    string? License);
