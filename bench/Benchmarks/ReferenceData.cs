using System.Text;
using System.Text.Json;
using TrainingService.Training.Datasets.Formats;
using static TorchSharp.torch;

namespace TrainingService.Bench;

/// <summary>
/// The data each reference model trains on, the same bytes for every contender: Fashion-MNIST (Debian's
/// <c>dataset-fashion-mnist</c>) for the MLP when installed, else synthetic; synthetic CIFAR-10- and IMDB-shaped
/// data for the CNN and the LSTM. The synthetic sets are also written in their canonical formats (CIFAR binary
/// batches; an aclImdb tree and a word index) under a <c>Datasets:Root</c> so the service trains on them too, and
/// as raw arrays for the PyTorch peer.
/// </summary>
public sealed class ReferenceData : IDisposable
{
    public const string FashionMnistDir = "/usr/share/datasets/fashion-mnist";

    private ReferenceData(string model, Tensor x, Tensor y, string source)
    {
        Model = model;
        X = x;
        Y = y;
        Source = source;
    }

    public string Model { get; }
    public Tensor X { get; }
    public Tensor Y { get; }
    public string Source { get; }
    public long Count => X.shape[0];

    public static bool HasFashionMnist => File.Exists(Path.Combine(FashionMnistDir, "train-images-idx3-ubyte.gz"));

    public static ReferenceData Create(string model, long samples)
    {
        using var g = new Generator(42);
        switch (model)
        {
            case "mlp" when HasFashionMnist:
                var images = IdxReader.ReadImages(Path.Combine(FashionMnistDir, "train-images-idx3-ubyte.gz"));
                var labels = IdxReader.ReadLabels(Path.Combine(FashionMnistDir, "train-labels-idx1-ubyte.gz"));
                return new(model, images.narrow(0, 0, samples), labels.narrow(0, 0, samples), "Fashion-MNIST");
            case "mlp":
                return new(model, randint(0, 256, [samples, 28, 28], ScalarType.Byte, generator: g), randint(0, 10, [samples], ScalarType.Byte, generator: g), "synthetic");
            case "cnn":
                return new(model, randint(0, 256, [samples, 32, 32, 3], ScalarType.Byte, generator: g), randint(0, 10, [samples], ScalarType.Byte, generator: g), "synthetic");
            default:
                // Word ids 4..9999: what Keras's encoding (rank + 3, 1 = start, 2 = OOV) gives in-vocabulary words.
                return new(model, randint(4, 10000, [samples, 100], ScalarType.Int64, generator: g), randint(0, 2, [samples], ScalarType.Int64, generator: g), "synthetic");
        }
    }

    /// <summary>Raw little-endian arrays for the PyTorch peer: <c>{model}-x.bin</c>, <c>{model}-y.bin</c>.</summary>
    public void WriteRaw(string dir)
    {
        File.WriteAllBytes(Path.Combine(dir, $"{Model}-x.bin"), X.contiguous().bytes.ToArray());
        File.WriteAllBytes(Path.Combine(dir, $"{Model}-y.bin"), Y.contiguous().bytes.ToArray());
    }

    /// <summary>Writes the CNN's data as CIFAR-10 binary batches (five train batches, a small test batch) and the
    /// LSTM's as an aclImdb tree whose review i is the words of row i, so the service loads the same examples.</summary>
    public void WriteCanonical(string datasetsRoot)
    {
        if (Model == "cnn")
        {
            var dir = Directory.CreateDirectory(Path.Combine(datasetsRoot, "cifar10", "cifar-10-batches-bin")).FullName;
            var n = Count;
            // Records: label, then the R, G and B planes of the (32, 32, 3) image.
            using var planes = X.permute(0, 3, 1, 2).contiguous();
            var pixels = planes.bytes.ToArray();
            var labels = Y.bytes.ToArray();
            var per = (n + 4) / 5;
            for (var b = 0; b < 5; b++)
            {
                var from = Math.Min(n, b * per);
                var to = Math.Min(n, from + per);
                File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b + 1}.bin"), CifarRecords(pixels, labels, from, to));
            }
            File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), CifarRecords(pixels, labels, 0, Math.Min(n, 100)));
        }
        else if (Model == "lstm")
        {
            var root = Path.Combine(datasetsRoot, "imdb");
            var ids = X.data<long>().ToArray();
            var labels = Y.data<long>().ToArray();
            var len = (int)X.shape[1];
            // Every row is a train review; the first 64 are also the test split (only the final evaluation reads it).
            foreach (var (split, count) in new[] { ("train", Count), ("test", Math.Min(64, Count)) })
            {
                for (var i = 0; i < count; i++)
                {
                    var dir = Directory.CreateDirectory(Path.Combine(root, "aclImdb", split, labels[i] == 1 ? "pos" : "neg")).FullName;
                    var words = new StringBuilder();
                    for (var t = 0; t < len; t++) words.Append('w').Append(ids[i * len + t] - 3).Append(' ');
                    File.WriteAllText(Path.Combine(dir, $"{i}_{(labels[i] == 1 ? 8 : 2)}.txt"), words.ToString());
                }
            }
            var index = Enumerable.Range(1, 12000).ToDictionary(r => $"w{r}", r => r);
            File.WriteAllText(Path.Combine(root, "imdb_word_index.json"), JsonSerializer.Serialize(index));
        }
    }

    private static byte[] CifarRecords(byte[] pixels, byte[] labels, long from, long to)
    {
        const int image = 3072;
        var bytes = new byte[(to - from) * (image + 1)];
        for (var i = from; i < to; i++)
        {
            var at = (i - from) * (image + 1);
            bytes[at] = labels[i];
            Array.Copy(pixels, i * image, bytes, at + 1, image);
        }
        return bytes;
    }

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }
}
