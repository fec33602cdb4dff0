namespace TrainingService.Training.Datasets;

/// <summary>Files of a dataset found on this machine. <see cref="Format"/> says how to read them; <see cref="Paths"/>
/// are full paths in the order that format expects.</summary>
public sealed record LocatedDataset(DatasetDefinition Definition, LocatedFormat Format, string Folder, IReadOnlyList<string> Paths)
{
    public string Describe() => Format == LocatedFormat.Bundled ? "bundled" : $"{Folder} ({Format})";
}

public enum LocatedFormat
{
    Bundled,
    Idx,
    Npz,
    CifarFolder,
    CifarTarGz,
    ImdbTree,
    ImdbTarGz,
}
