using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrainingService.Training.Datasets.Formats;

/// <summary>Reads the Large Movie Review Dataset (<c>aclImdb/{train,test}/{pos,neg}/&lt;id&gt;_&lt;rating&gt;.txt</c>) from
/// the unpacked tree or <c>aclImdb_v1.tar.gz</c>, encoding each review with Keras's word index. Label 1 = positive.
/// Reviews are ordered by (split, label, id) and then shuffled with a fixed seed, as keras.datasets.imdb shuffles,
/// so that a validation split taken from the end holds both labels.</summary>
public static partial class AclImdbReader
{
    public const int ShuffleSeed = 113;

    public sealed record Split(IReadOnlyList<int[]> Sequences, byte[] Labels);

    public static Dictionary<string, int> ReadWordIndex(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            var index = JsonSerializer.Deserialize<Dictionary<string, int>>(s)
                ?? throw new DatasetException($"{Path.GetFileName(path)}: empty word index.");
            if (index.Count == 0) throw new DatasetException($"{Path.GetFileName(path)}: the word index has no words.");
            return index;
        }
        catch (JsonException e)
        {
            throw new DatasetException($"{Path.GetFileName(path)}: not a JSON object of word → rank ({e.Message}).", e);
        }
    }

    public static (Split Train, Split Test) ReadTree(string aclImdbDirectory, IReadOnlyDictionary<string, int> wordRanks)
    {
        var reviews = new List<Review>();
        foreach (var split in new[] { "train", "test" })
        {
            foreach (var label in new[] { "neg", "pos" })
            {
                var dir = Path.Combine(aclImdbDirectory, split, label);
                if (!Directory.Exists(dir))
                    throw new DatasetException($"{aclImdbDirectory}: missing folder {split}/{label}/; expected the aclImdb tree (train and test, each with pos and neg).");
                foreach (var file in Directory.EnumerateFiles(dir, "*.txt"))
                {
                    var m = ReviewName().Match(Path.GetFileName(file));
                    if (!m.Success) continue;
                    reviews.Add(new Review(split == "train", label == "pos", int.Parse(m.Groups[1].Value), File.ReadAllText(file, Encoding.UTF8)));
                }
            }
        }
        return Build(reviews, wordRanks, aclImdbDirectory);
    }

    public static (Split Train, Split Test) ReadTarGz(string path, IReadOnlyDictionary<string, int> wordRanks)
    {
        var reviews = new List<Review>();
        var name = Path.GetFileName(path);
        using (var file = File.OpenRead(path))
        using (var gz = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            TarEntry? entry;
            while ((entry = CifarBinaryReader.NextEntry(tar, name)) is not null)
            {
                if (entry.DataStream is null) continue;
                var m = ReviewPath().Match(entry.Name);
                if (!m.Success) continue;
                string text;
                try
                {
                    text = new StreamReader(entry.DataStream, Encoding.UTF8).ReadToEnd();
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
                {
                    throw new DatasetException($"{name}: corrupt or truncated archive at {entry.Name} ({e.Message}).", e);
                }
                reviews.Add(new Review(m.Groups[1].Value == "train", m.Groups[2].Value == "pos", int.Parse(m.Groups[3].Value), text));
            }
        }
        return Build(reviews, wordRanks, name);
    }

    private static (Split, Split) Build(List<Review> reviews, IReadOnlyDictionary<string, int> wordRanks, string source)
    {
        Split Make(bool train)
        {
            var part = reviews.Where(r => r.Train == train).OrderBy(r => r.Positive).ThenBy(r => r.Id).ToArray();
            if (part.Length == 0)
                throw new DatasetException($"{source}: no {(train ? "train" : "test")} reviews found (expected aclImdb/{(train ? "train" : "test")}/{{pos,neg}}/<id>_<rating>.txt).");
            new Random(ShuffleSeed).Shuffle(part);
            return new Split(part.Select(r => ImdbTokenizer.Encode(r.Text, wordRanks)).ToArray(),
                part.Select(r => (byte)(r.Positive ? 1 : 0)).ToArray());
        }
        return (Make(true), Make(false));
    }

    private sealed record Review(bool Train, bool Positive, int Id, string Text);

    [GeneratedRegex(@"^(\d+)_\d+\.txt$")]
    private static partial Regex ReviewName();

    [GeneratedRegex(@"^(?:\./)?aclImdb/(train|test)/(pos|neg)/(\d+)_\d+\.txt$")]
    private static partial Regex ReviewPath();
}
