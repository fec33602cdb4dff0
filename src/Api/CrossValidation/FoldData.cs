using TrainingService.Api.Datasets;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;
using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Api.CrossValidation;

/// <summary>
/// What a run trains on, validates on and is scored on. An ordinary run (and a refit): the training split, the
/// spec's own validation, the test split. A fold: the other folds, its own fold, its own fold — the held-out fold
/// is both the per-epoch <c>val_*</c> and the final score, and the test split is never touched.
/// </summary>
public sealed class FoldData : IDisposable
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

    public static FoldData For(Run run, CrossValidationSpec? cv, PreparedData data)
    {
        if (run.Role != RunRoles.Fold || cv is null || run.FoldIndex is not { } fold)
            return new FoldData(data.Train, null, data.Test);

        var assignment = FoldAssignment.Assign((int)data.Train.Count, cv.Folds, cv.Seed, cv.Stratified ? ClassLabels(data.Train) : null);
        using var trainIdx = tensor(Enumerable.Range(0, assignment.Length).Where(i => assignment[i] != fold).Select(i => (long)i).ToArray());
        using var heldIdx = tensor(Enumerable.Range(0, assignment.Length).Where(i => assignment[i] == fold).Select(i => (long)i).ToArray());
        var train = data.Train.Take(trainIdx);
        var held = data.Train.Take(heldIdx);
        var result = new FoldData(train, held, held);
        result._owned.Add(train);
        result._owned.Add(held);
        return result;
    }

    /// <summary>Class index per example of the first target: integer labels as they are, one-hot rows by argmax.</summary>
    public static int[] ClassLabels(ArrayDataset data)
    {
        var y = data.Targets[0];
        using var labels = y.dim() == 1 ? y.to_type(ScalarType.Int32) : y.argmax(1).to_type(ScalarType.Int32);
        return labels.data<int>().ToArray();
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
