namespace TrainingService.Training.Datasets;

/// <summary>What the catalog knows about a dataset without loading it.</summary>
/// <param name="Name">The name a run uses (<c>dataset.name</c>).</param>
/// <param name="Folder">Its folder under <see cref="DatasetOptions.Root"/> (null for bundled sets).</param>
/// <param name="InputShape">Per-example shape as loaded (Keras's layout); sequences: [] (variable length).</param>
/// <param name="InputDType">Stored dtype of the inputs: "uint8", "float32", or "int32" (word indices).</param>
/// <param name="TestCount">Null when there is no test split (a run takes <c>test_fraction</c> of train).</param>
/// <param name="Layouts">The accepted file layouts inside <see cref="Folder"/>, each a list of paths.</param>
/// <param name="Downloads">The canonical files fetched when downloads are allowed (empty: cannot be downloaded).</param>
public sealed record DatasetDefinition(
    string Name,
    string Description,
    DatasetKind Kind,
    string? Folder,
    int[] InputShape,
    string InputDType,
    int TrainCount,
    int? TestCount,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<IReadOnlyList<string>> Layouts,
    IReadOnlyList<RemoteFile> Downloads,
    string? License);
