using TrainingService.Training.Datasets;
using static TorchSharp.torch;

namespace TrainingService.Datasets.Tests;

public class CifarReaderTests
{
    private static byte Pixel(int n, int ch, int r, int c) => (byte)((n * 7 + ch * 50 + r * 3 + c) % 256);

    private static byte[] Batch(int count, int offset) =>
        FileWriters.CifarBatch(count, 1, n => [(byte)((n + offset) % 10)], (n, ch, r, c) => Pixel(n + offset, ch, r, c));

    private static IEnumerable<(string, byte[])> Cifar10Files()
    {
        for (var b = 1; b <= 5; b++) yield return ($"cifar-10-batches-bin/data_batch_{b}.bin", Batch(2, (b - 1) * 2));
        yield return ("cifar-10-batches-bin/test_batch.bin", Batch(3, 100));
        yield return ("cifar-10-batches-bin/batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"u8.ToArray());
    }

    private static void AssertCifar10(RawDataset raw)
    {
        Assert.Equal(new long[] { 10, 32, 32, 3 }, raw.TrainX!.shape);
        Assert.Equal(new long[] { 3, 32, 32, 3 }, raw.TestX!.shape);
        Assert.Equal(ScalarType.Byte, raw.TrainX.dtype);
        // channels last: [n, row, col, channel] equals the record's plane `channel` at (row, col).
        Assert.Equal(Pixel(7, 2, 5, 9), raw.TrainX[7, 5, 9, 2].item<byte>());
        Assert.Equal(Pixel(101, 1, 31, 0), raw.TestX[1, 31, 0, 1].item<byte>());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (byte)i).ToArray(), raw.TrainY.data<byte>().ToArray());
        Assert.Equal("truck", raw.ClassNames[9]);
    }

    [Fact]
    public async Task Cifar10_BinaryFolder_LoadsChannelsLast()
    {
        using var dir = new TempFolder();
        foreach (var (name, data) in Cifar10Files())
        {
            var path = Path.Combine(dir.Sub("cifar10"), name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
        }
        using var raw = await new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("cifar10", default);
        AssertCifar10(raw);
    }

    [Fact]
    public async Task Cifar10_TarGz_Loads()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(Path.Combine(dir.Sub("cifar10"), "cifar-10-binary.tar.gz"), FileWriters.TarGz(Cifar10Files()));
        using var raw = await new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("cifar10", default);
        AssertCifar10(raw);
    }

    [Fact]
    public async Task Cifar100_KeepsFineLabels()
    {
        using var dir = new TempFolder();
        var folder = dir.Sub("cifar100", "cifar-100-binary");
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), FileWriters.CifarBatch(2, 2, n => [3, (byte)(90 + n)], (n, ch, r, c) => 1));
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), FileWriters.CifarBatch(1, 2, n => [19, 99], (n, ch, r, c) => 2));
        using var raw = await new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("cifar100", default);
        Assert.Equal(new byte[] { 90, 91 }, raw.TrainY.data<byte>().ToArray());
        Assert.Equal(99, raw.TestY!.data<byte>()[0]);
        Assert.Equal("worm", raw.ClassNames[99]);
        Assert.Equal(100, raw.ClassNames.Count);
    }

    [Fact]
    public async Task Cifar_RejectsTruncatedBatch()
    {
        using var dir = new TempFolder();
        foreach (var (name, data) in Cifar10Files())
        {
            var path = Path.Combine(dir.Sub("cifar10"), name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, name.EndsWith("data_batch_3.bin") ? data[..^100] : data);
        }
        var e = await Assert.ThrowsAsync<DatasetException>(() => new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("cifar10", default));
        Assert.Contains("data_batch_3.bin", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public async Task Cifar_RejectsTruncatedTarGz()
    {
        using var dir = new TempFolder();
        var tgz = FileWriters.TarGz(Cifar10Files());
        File.WriteAllBytes(Path.Combine(dir.Sub("cifar10"), "cifar-10-binary.tar.gz"), tgz[..(tgz.Length * 2 / 3)]);
        var e = await Assert.ThrowsAsync<DatasetException>(() => new DatasetLoader(new DatasetOptions { Root = dir.Path }).LoadAsync("cifar10", default));
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
    }
}
