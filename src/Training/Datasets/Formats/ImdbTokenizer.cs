namespace TrainingService.Training.Datasets.Formats;

/// <summary>
/// Keras's IMDB encoding of raw review text: lower-case, "&lt;br /&gt;" and punctuation become spaces (Keras's
/// Tokenizer filter set, which keeps the apostrophe), split on spaces; each word becomes its frequency rank in
/// <c>imdb_word_index.json</c> plus <see cref="IndexFrom"/>. A sequence starts with <see cref="StartChar"/>;
/// unknown words and words outside <c>skip_top &lt;= index &lt; num_words</c> become <see cref="OovChar"/>.
/// As in keras.datasets.imdb, the num_words/skip_top filter applies to every index, the start mark included.
/// Line breaks: when the word index has the word "br", it was built from text where "&lt;br /&gt;" became the token
/// "br" (punctuation stripped, tag name kept), so breaks are kept as "br"; otherwise they are removed
/// (<see cref="StripsBreaks"/>).
/// </summary>
public static class ImdbTokenizer
{
    public const int PadChar = 0;
    public const int StartChar = 1;
    public const int OovChar = 2;
    public const int IndexFrom = 3;

    // Keras Tokenizer's default `filters` ('!"#$%&()*+,-./:;<=>?@[\]^_`{|}~\t\n'), plus \r.
    private static readonly System.Buffers.SearchValues<char> Filters =
        System.Buffers.SearchValues.Create("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r");

    /// <summary>Whether "&lt;br /&gt;" is removed (true) or read as the word "br" (false) with this word index.</summary>
    public static bool StripsBreaks(IReadOnlyDictionary<string, int> wordRanks) => !wordRanks.ContainsKey("br");

    public static IEnumerable<string> Words(string text, bool stripBreaks = true)
    {
        var lower = text.ToLowerInvariant();
        if (stripBreaks) lower = lower.Replace("<br />", " ", StringComparison.Ordinal).Replace("<br/>", " ", StringComparison.Ordinal);
        var chars = lower.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (Filters.Contains(chars[i])) chars[i] = ' ';
        }
        return new string(chars).Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Start mark then word indices (rank + 3; unknown words OOV), with no num_words limit applied.</summary>
    public static int[] Encode(string text, IReadOnlyDictionary<string, int> wordRanks)
    {
        var stripBreaks = StripsBreaks(wordRanks);
        var result = new List<int> { StartChar };
        foreach (var w in Words(text, stripBreaks))
            result.Add(wordRanks.TryGetValue(w, out var rank) ? rank + IndexFrom : OovChar);
        return result.ToArray();
    }

    /// <summary>Keras's filter: every index outside [skip_top, num_words) becomes OOV.</summary>
    public static int Limit(int index, int? numWords, int skipTop) =>
        index >= skipTop && (numWords is not { } n || index < n) ? index : OovChar;
}
