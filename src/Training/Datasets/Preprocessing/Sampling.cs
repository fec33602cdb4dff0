namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>Seeded index selection: held-out splits (optionally stratified) and subsets. Indices are returned in
/// ascending order so that a selection of a whole split is recognisable and stored order is kept.</summary>
internal static class Sampling
{
    /// <summary>Splits 0..n-1 into train and test; with <paramref name="labels"/>, each class contributes its share.</summary>
    public static (int[] Train, int[] Test) Split(int n, double testFraction, int[]? labels, int seed)
    {
        var rng = new Random(seed);
        var test = new List<int>();
        var groups = labels is null
            ? [Enumerable.Range(0, n).ToArray()]
            : Enumerable.Range(0, n).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();
        foreach (var g in groups)
        {
            rng.Shuffle(g);
            var take = (int)Math.Round(g.Length * testFraction, MidpointRounding.AwayFromZero);
            if (take >= g.Length && g.Length > 1) take = g.Length - 1;
            test.AddRange(g.Take(take));
        }
        // A tiny set whose classes each round down to nothing still gets one test row.
        if (test.Count == 0 && n >= 2) test.Add(groups.OrderByDescending(g => g.Length).First()[0]);
        var testSet = test.ToHashSet();
        return (Enumerable.Range(0, n).Where(i => !testSet.Contains(i)).ToArray(), test.Order().ToArray());
    }

    /// <summary>A seeded sample of <paramref name="count"/> of <paramref name="indices"/> (all of them when fewer).</summary>
    public static int[] Subset(int[] indices, int? count, int seed)
    {
        if (count is not { } c || c >= indices.Length) return indices;
        var copy = indices.ToArray();
        new Random(seed).Shuffle(copy);
        return copy.Take(c).Order().ToArray();
    }
}
