using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Support;

/// <summary>Reads IDX files (MNIST family) straight into uint8 tensors, for tests on real Fashion-MNIST.</summary>
public static class Idx
{
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    public static bool FashionMnistInstalled => File.Exists(Path.Combine(DebianFashionMnist, "train-images-idx3-ubyte.gz"));

    public static Tensor Read(string path)
    {
        using var file = File.OpenRead(path);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        var bytes = ms.ToArray();
        var magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        var rank = magic & 0xff;
        var shape = new long[rank];
        for (var i = 0; i < rank; i++) shape[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
        var offset = 4 + 4 * rank;
        return tensor(bytes[offset..], shape);
    }

    public static (Tensor X, Tensor Y) FashionMnist(bool train)
    {
        var prefix = train ? "train" : "t10k";
        return (Read(Path.Combine(DebianFashionMnist, $"{prefix}-images-idx3-ubyte.gz")),
            Read(Path.Combine(DebianFashionMnist, $"{prefix}-labels-idx1-ubyte.gz")));
    }
}
