using TrainingService.Api.Datasets;
using TrainingService.Api.Jobs;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;
using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Api.CrossValidation;

/// <summary>
/// What a run trains on, validates on and is scored on. An ordinary run (and a refit): the training split, the
/// spec's own validation, the test split. A fold: the other folds, its own fold, its own fold — the held-out fold
/// is both the per-epoch <c>val_*</c> and the final score, and the test split is never touched. A fold's
/// preprocessing is fitted on the other folds only (<see cref="FoldSplitter.FitOn"/>), so the score it reports has
/// not seen its held-out examples through standardisation statistics, imputation values or category lists either.
/// </summary>
public sealed class FoldData : ITrainingSets
{
    private readonly List<IDisposable> _owned = [];

    private FoldData(ArrayDataset train, ArrayDataset? validation, ArrayDataset? score)
    {
        Train = train;
        Validation = validation;
        Score = score;
    }

    public ArrayDataset Train { get; }
    public ArrayDataset? Validation { get; }
    public ArrayDataset? Score { get; }

    /// <summary>The splitter a fold run prepares its data with; null for any other run.</summary>
    public static FoldSplitter? SplitterFor(Run run, CrossValidationSpec? cv) =>
        run.Role == RunRoles.Fold && cv is not null && run.FoldIndex is { } fold ? new FoldSplitter(cv, fold) : null;

    /// <param name="splitter">The one <see cref="SplitterFor"/> gave, after the data was prepared with its FitOn.</param>
    public static FoldData For(PreparedData data, FoldSplitter? splitter)
    {
        if (splitter is null) return new FoldData(data.Train, null, data.Test);

        var assignment = splitter.Assignment
            ?? throw new InvalidOperationException("The fold's data was prepared without its FitOn.");
        if (assignment.Length != data.Train.Count)
            throw new InvalidOperationException($"Fold assignment covers {assignment.Length} examples; the training split has {data.Train.Count}.");
        using var trainIdx = tensor(FoldSplitter.Positions(assignment, f => f != splitter.Fold));
        using var heldIdx = tensor(FoldSplitter.Positions(assignment, f => f == splitter.Fold));
        var train = data.Train.Take(trainIdx);
        var held = data.Train.Take(heldIdx);
        var result = new FoldData(train, held, held);
        result._owned.Add(train);
        result._owned.Add(held);
        return result;
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}

/// <summary>
/// Splits the training split into folds once its size and classes are known (during preparation), and picks the
/// other folds as what the preprocessing is fitted on.
/// </summary>
public sealed class FoldSplitter(CrossValidationSpec cv, int fold)
{
    public int Fold { get; } = fold;

    /// <summary>Fold index per training example; null until <see cref="FitOn"/> has run.</summary>
    public int[]? Assignment { get; private set; }

    public int[] FitOn(int trainCount, int[]? trainClasses)
    {
        Assignment = FoldAssignment.Assign(trainCount, cv.Folds, cv.Seed, cv.Stratified ? trainClasses : null);
        return Positions(Assignment, f => f != Fold).Select(i => (int)i).ToArray();
    }

    /// <summary>Positions of the training examples whose fold passes <paramref name="include"/>.</summary>
    internal static long[] Positions(int[] assignment, Func<int, bool> include) =>
        Enumerable.Range(0, assignment.Length).Where(i => include(assignment[i])).Select(i => (long)i).ToArray();
}
