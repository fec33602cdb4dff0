using static TorchSharp.torch;

namespace TrainingService.Training.Datasets;

/// <summary>
/// A dataset as loaded from its files, before any run's preprocessing: shared by every run that uses it (see
/// <see cref="DatasetCache"/>), so nothing may modify its tensors. Images and tables are whole tensors in Keras's
/// layout and dtype; IMDB reviews are word-index sequences (start mark 1, OOV 2, rank + 3, no num_words limit).
/// Labels are integer class indices.
/// </summary>
public sealed class RawDataset : IDisposable
{
    public required string Name { get; init; }
    public required DatasetKind Kind { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Train inputs (null for sequence datasets).</summary>
    public Tensor? TrainX { get; init; }
    public required Tensor TrainY { get; init; }
    public Tensor? TestX { get; init; }

    /// <summary>Null when the dataset has no test split of its own (a run then takes <c>test_fraction</c> of train).</summary>
    public Tensor? TestY { get; init; }

    public IReadOnlyList<int[]>? TrainSequences { get; init; }
    public IReadOnlyList<int[]>? TestSequences { get; init; }

    /// <summary>Word → frequency rank (Keras's imdb_word_index.json), for sequence datasets.</summary>
    public IReadOnlyDictionary<string, int>? WordRanks { get; init; }

    /// <summary>Where the data came from (a folder or file), for logs and errors.</summary>
    public required string Source { get; init; }

    public bool HasTestSplit => TestY is not null;

    public void Dispose()
    {
        TrainX?.Dispose();
        TrainY.Dispose();
        TestX?.Dispose();
        TestY?.Dispose();
    }
}
