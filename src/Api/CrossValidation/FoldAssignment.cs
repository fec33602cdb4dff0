namespace TrainingService.Api.CrossValidation;

/// <summary>
/// Which validation fold each training example belongs to. Seeded and deterministic, so every fold job (in any
/// process, after any restart) computes the same partition. Stratified: each class is shuffled and dealt round-robin,
/// the dealing continuing from class to class, so every fold holds ⌊n_c/k⌋ or ⌈n_c/k⌉ of each class and the
/// fold sizes differ by at most one (as scikit-learn's StratifiedKFold aims for).
/// </summary>
public static class FoldAssignment
{
    public static int[] Assign(int count, int folds, int seed, int[]? labels)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), "at least two folds");
        if (count < folds) throw new ArgumentException($"{folds} folds need at least {folds} training examples; the training split has {count}.");
        var rng = new Random(seed);
        var groups = labels is null
            ? [Enumerable.Range(0, count).ToArray()]
            : Enumerable.Range(0, count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();
        var fold = new int[count];
        var dealt = 0;
        foreach (var group in groups)
        {
            rng.Shuffle(group);
            foreach (var i in group) fold[i] = dealt++ % folds;
        }
        return fold;
    }
}
