namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>How raw text becomes a model input, as fitted on the training split (Keras's IMDB rules, see
/// <see cref="Formats.ImdbTokenizer"/>). <see cref="Vocabulary"/> holds only the words that keep their own index
/// under num_words/skip_top (word → rank + index_from); every other word becomes <see cref="OovChar"/>.</summary>
public sealed record TextEncoding(
    int? NumWords,
    int SkipTop,
    int Maxlen,
    string Padding,
    string Truncating,
    int StartChar,
    int OovChar,
    int IndexFrom,
    bool StripBreaks,
    IReadOnlyDictionary<string, int> Vocabulary);
