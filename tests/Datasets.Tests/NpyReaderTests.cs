using System.Text;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Formats;
using static TorchSharp.torch;

namespace TrainingService.Datasets.Tests;

public class NpyReaderTests
{
    [Fact]
    public async Task Npz_MnistFile_LoadsThroughTheCatalog()
    {
        using var dir = new TempFolder();
        var xTrain = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)(i % 251)).ToArray();
        var npz = FileWriters.Zip([
            ("x_train.npy", FileWriters.Npy("|u1", [3, 28, 28], xTrain)),
            ("y_train.npy", FileWriters.Npy("|u1", [3], [5, 0, 4])),
            ("x_test.npy", FileWriters.Npy("|u1", [1, 28, 28], new byte[28 * 28])),
            ("y_test.npy", FileWriters.Npy("|u1", [1], [7])),
        ]);
        File.WriteAllBytes(Path.Combine(dir.Sub("mnist"), "mnist.npz"), npz);

        using var raw = await new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("mnist", default);

        Assert.Equal(new long[] { 3, 28, 28 }, raw.TrainX!.shape);
        Assert.Equal(ScalarType.Byte, raw.TrainX.dtype);
        Assert.Equal(xTrain[2 * 784 + 5 * 28 + 6], raw.TrainX[2, 5, 6].item<byte>());
        Assert.Equal(new byte[] { 5, 0, 4 }, raw.TrainY.data<byte>().ToArray());
        Assert.Equal(new long[] { 1, 28, 28 }, raw.TestX!.shape);
    }

    [Fact]
    public void Npy_ReadsFloat32AndInt64()
    {
        var floats = new float[] { 1.5f, -2f, 3.25f, 0f, 8f, 9f };
        var bytes = FileWriters.Npy("<f4", [2, 3], floats.SelectMany(BitConverter.GetBytes).ToArray());
        using var t = NpyReader.Read(new MemoryStream(bytes), "a.npy");
        Assert.Equal(new long[] { 2, 3 }, t.shape);
        Assert.Equal(3.25f, t[0, 2].item<float>());

        var longs = FileWriters.Npy("<i8", [2], BitConverter.GetBytes(7L).Concat(BitConverter.GetBytes(-1L)).ToArray());
        using var l = NpyReader.Read(new MemoryStream(longs), "b.npy");
        Assert.Equal(new long[] { 7, -1 }, l.data<long>().ToArray());
    }

    [Fact]
    public void Npy_RefusesObjectArrays()
    {
        var bytes = FileWriters.Npy("|O", [2], Encoding.ASCII.GetBytes("\x80\x02cbuiltins\neval\n"));
        var e = Assert.Throws<DatasetException>(() => NpyReader.Read(new MemoryStream(bytes), "x_train.npy"));
        Assert.Contains("object array", e.Message);
        Assert.Contains("pickled", e.Message);
    }

    [Fact]
    public void Npy_RejectsTruncatedData()
    {
        var bytes = FileWriters.Npy("|u1", [10, 10], new byte[100])[..^7];
        var e = Assert.Throws<DatasetException>(() => NpyReader.Read(new MemoryStream(bytes), "x.npy"));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("100 bytes", e.Message);
    }

    [Fact]
    public void Npy_RejectsNonNpyBytes()
    {
        var e = Assert.Throws<DatasetException>(() => NpyReader.Read(new MemoryStream(Encoding.ASCII.GetBytes("hello world")), "x.npy"));
        Assert.Contains("NUMPY", e.Message);
    }

    [Fact]
    public void Npz_RejectsCorruptArchive()
    {
        using var dir = new TempFolder();
        var npz = FileWriters.Zip([("x_train.npy", FileWriters.Npy("|u1", [4], [1, 2, 3, 4]))]);
        File.WriteAllBytes(dir.File("bad.npz"), npz[..(npz.Length / 2)]);
        var e = Assert.Throws<DatasetException>(() => NpyReader.ReadNpz(dir.File("bad.npz")));
        Assert.Contains("bad.npz", e.Message);
    }

    [Fact]
    public async Task Npz_MissingArraysAreNamed()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(Path.Combine(dir.Sub("mnist"), "mnist.npz"),
            FileWriters.Zip([("x_train.npy", FileWriters.Npy("|u1", [1, 28, 28], new byte[784]))]));
        var e = await Assert.ThrowsAsync<DatasetException>(() => new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("mnist", default));
        Assert.Contains("y_train, x_test, y_test", e.Message);
    }
}
