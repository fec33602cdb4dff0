namespace TrainingService.Training.Datasets.Formats;

/// <summary>Keras's pad_sequences: pad with 0 to <c>maxlen</c> (default: the longest), truncating "pre" keeps the
/// last tokens, "post" the first; padding "pre" puts zeros in front.</summary>
public static class SequencePadding
{
    public static int[] Pad(IReadOnlyList<int[]> sequences, int? maxlen, bool padPost, bool truncatePost, Func<int, int>? map = null)
    {
        var len = maxlen ?? (sequences.Count == 0 ? 0 : sequences.Max(s => s.Length));
        var result = new int[sequences.Count * len];
        for (var i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            var take = Math.Min(s.Length, len);
            var from = truncatePost ? 0 : s.Length - take;
            var to = i * len + (padPost ? 0 : len - take);
            for (var k = 0; k < take; k++)
                result[to + k] = map is null ? s[from + k] : map(s[from + k]);
        }
        return result;
    }
}
