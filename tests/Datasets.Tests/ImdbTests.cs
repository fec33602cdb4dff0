using System.Text.Json;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Formats;
using TrainingService.Training.Datasets.Preprocessing;

namespace TrainingService.Datasets.Tests;

/// <summary>Expected indices are written by hand from Keras's rules (index = rank + 3, start 1, OOV 2, pad 0) and
/// the tiny word index below, not computed by the code under test.</summary>
public class ImdbTests
{
    private const string WordIndex = """{"the": 1, "movie": 2, "was": 3, "great": 4, "bad": 5, "i": 6, "it": 7, "don't": 8}""";
    private const string Positive = "The movie was GREAT!<br /><br />I loved it.";
    private const string Negative = "I don't like it -- bad, bad movie";

    // the=4 movie=5 was=6 great=7 i=9 loved=OOV(2) it=10
    private static readonly int[] PositiveFull = [1, 4, 5, 6, 7, 9, 2, 10];
    // i=9 don't=11 like=OOV(2) it=10 bad=8 bad=8 movie=5
    private static readonly int[] NegativeFull = [1, 9, 11, 2, 10, 8, 8, 5];

    private static TempFolder WriteTree()
    {
        var dir = new TempFolder();
        File.WriteAllText(Path.Combine(dir.Sub("imdb"), "imdb_word_index.json"), WordIndex);
        File.WriteAllText(Path.Combine(dir.Sub("imdb", "aclImdb", "train", "pos"), "0_9.txt"), Positive);
        File.WriteAllText(Path.Combine(dir.Sub("imdb", "aclImdb", "train", "neg"), "0_2.txt"), Negative);
        File.WriteAllText(Path.Combine(dir.Sub("imdb", "aclImdb", "test", "pos"), "3_8.txt"), "great great movie");
        File.WriteAllText(Path.Combine(dir.Sub("imdb", "aclImdb", "test", "neg"), "4_1.txt"), "bad");
        dir.Sub("imdb", "aclImdb", "train", "unsup");
        return dir;
    }

    [Fact]
    public void Tokenizer_EncodesAsKerasRulesGive()
    {
        var ranks = JsonSerializer.Deserialize<Dictionary<string, int>>(WordIndex)!;
        Assert.Equal(PositiveFull, ImdbTokenizer.Encode(Positive, ranks));
        Assert.Equal(NegativeFull, ImdbTokenizer.Encode(Negative, ranks));
        Assert.Equal(new[] { "the", "movie", "was", "great", "i", "loved", "it" }, ImdbTokenizer.Words(Positive));
    }

    [Fact]
    public void Tokenizer_KeepsBrAsAWord_WhenTheWordIndexHasIt()
    {
        // Keras's real index ranks "br" among the commonest words: its text kept "<br />" as the token "br".
        var ranks = new Dictionary<string, int> { ["the"] = 1, ["br"] = 2, ["movie"] = 3 };
        // the=4 br=5 br=5 movie=6 ; without "br" in the index the breaks would simply vanish.
        Assert.Equal(new[] { 1, 4, 5, 5, 6 }, ImdbTokenizer.Encode("The<br /><br />movie", ranks));
        Assert.Equal(new[] { 1, 4, 5 }, ImdbTokenizer.Encode("The<br /><br />movie", new Dictionary<string, int> { ["the"] = 1, ["movie"] = 2 }));
    }

    [Fact]
    public async Task Imdb_Tree_LoadsWithLabels()
    {
        using var dir = WriteTree();
        using var raw = await new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("imdb", default);
        var labels = raw.TrainY.data<byte>().ToArray();
        Assert.Equal(PositiveFull, raw.TrainSequences![Array.IndexOf(labels, (byte)1)]);
        Assert.Equal(NegativeFull, raw.TrainSequences[Array.IndexOf(labels, (byte)0)]);
        Assert.Equal(2, raw.TestSequences!.Count);
        Assert.Equal(new[] { "negative", "positive" }, raw.ClassNames);
    }

    [Fact]
    public async Task Imdb_TarGz_LoadsLikeTheTree()
    {
        using var dir = new TempFolder();
        File.WriteAllText(Path.Combine(dir.Sub("imdb"), "imdb_word_index.json"), WordIndex);
        File.WriteAllBytes(dir.File("imdb", "aclImdb_v1.tar.gz"), FileWriters.TarGz([
            ("aclImdb/train/pos/0_9.txt", System.Text.Encoding.UTF8.GetBytes(Positive)),
            ("aclImdb/train/neg/0_2.txt", System.Text.Encoding.UTF8.GetBytes(Negative)),
            ("aclImdb/train/unsup/0_0.txt", "ignored"u8.ToArray()),
            ("aclImdb/test/pos/3_8.txt", "great"u8.ToArray()),
            ("aclImdb/test/neg/4_1.txt", "bad"u8.ToArray()),
        ]));
        using var raw = await new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("imdb", default);
        var labels = raw.TrainY.data<byte>().ToArray();
        Assert.Equal(PositiveFull, raw.TrainSequences![Array.IndexOf(labels, (byte)1)]);
        Assert.Equal(new[] { 1, 7 }, raw.TestSequences![Array.IndexOf(raw.TestY!.data<byte>().ToArray(), (byte)1)]);
    }

    public static TheoryData<string, int[], int[]> Settings => new()
    {
        // num_words=8 keeps indices < 8: 9, 10, 11, 8 become 2. maxlen 5, pre/pre: pad front, keep the last 5.
        { """{"num_words": 8, "maxlen": 5}""", [6, 7, 2, 2, 2], [2, 2, 2, 2, 5] },
        // skip_top=5: indices below 5 (the start mark 1 and the=4 included) become 2. No maxlen: longest (8).
        { """{"skip_top": 5}""", [2, 2, 5, 6, 7, 9, 2, 10], [2, 9, 11, 2, 10, 8, 8, 5] },
        // truncating post keeps the first tokens; padding post pads at the end.
        { """{"maxlen": 5, "truncating": "post"}""", [1, 4, 5, 6, 7], [1, 9, 11, 2, 10] },
        { """{"maxlen": 10, "padding": "post"}""", [1, 4, 5, 6, 7, 9, 2, 10, 0, 0], [1, 9, 11, 2, 10, 8, 8, 5, 0, 0] },
        { """{"maxlen": 10}""", [0, 0, 1, 4, 5, 6, 7, 9, 2, 10], [0, 0, 1, 9, 11, 2, 10, 8, 8, 5] },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public async Task Imdb_Preprocessing_FollowsKerasNumWordsSkipTopAndPadSequences(string preprocessing, int[] positive, int[] negative)
    {
        using var dir = WriteTree();
        using var cache = new DatasetCache(new DatasetLoader(new DatasetOptions { Root = dir.Path }));
        var spec = JsonDocument.Parse($$"""{"name": "imdb", "preprocessing": {{preprocessing}} }""").RootElement;
        using var data = await new DatasetPreparer(cache).PrepareAsync(spec, default);

        var x = data.Train.Inputs[0];
        var y = data.Train.Targets[0].data<long>().ToArray();
        var len = positive.Length;
        Assert.Equal(new long[] { 2, len }, x.shape);
        var rows = x.data<int>().ToArray();
        Assert.Equal(positive, rows.Skip(Array.IndexOf(y, 1L) * len).Take(len).ToArray());
        Assert.Equal(negative, rows.Skip(Array.IndexOf(y, 0L) * len).Take(len).ToArray());

        // The fitted transform turns the same raw text into the same indices at prediction time.
        var instances = JsonDocument.Parse(JsonSerializer.Serialize(new[] { Positive, Negative })).RootElement;
        var fitted = FittedPreprocessing.FromJson(data.Preprocessing.ToJson());
        var inputs = fitted.PrepareInstances(instances);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, inputs[0].dtype);
        Assert.Equal(positive.Select(v => (long)v).Concat(negative.Select(v => (long)v)).ToArray(), inputs[0].data<long>().ToArray());
        Assert.True(data.Signature.Inputs[0].IsInteger);
        Assert.Equal(new[] { len }, data.Signature.Inputs[0].Shape);
    }

    [Fact]
    public async Task Imdb_CorruptWordIndex_IsRefused()
    {
        using var dir = WriteTree();
        File.WriteAllText(dir.File("imdb", "imdb_word_index.json"), "{\"the\": 1, \"movie\":");
        var e = await Assert.ThrowsAsync<DatasetException>(() => new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("imdb", default));
        Assert.Contains("imdb_word_index.json", e.Message);
    }

    [Fact]
    public void Imdb_MissingWordIndex_SaysWhatToPutWhere()
    {
        using var dir = new TempFolder();
        dir.Sub("imdb", "aclImdb", "train");
        dir.Sub("imdb", "aclImdb", "test");
        var info = DatasetCatalog.Describe(DatasetCatalog.Find("imdb")!, new DatasetOptions { Root = dir.Path });
        Assert.False(info.Available);
        Assert.Contains("imdb_word_index.json", info.HowToInstall);
        Assert.Contains(Path.Combine(dir.Path, "imdb"), info.HowToInstall);
    }
}
