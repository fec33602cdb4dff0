using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Formats;
using static TorchSharp.torch;

namespace TrainingService.Datasets.Tests;

public class IdxReaderTests
{
    private static byte Pixel(int n, int r, int c) => (byte)(n * 100 + r * 10 + c);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Idx_ReadsImagesAndLabels_GzipOrRaw(bool gzip)
    {
        using var dir = new TempFolder();
        var images = FileWriters.IdxImages(2, 3, 4, Pixel);
        var labels = FileWriters.IdxLabels(7, 9);
        File.WriteAllBytes(dir.File("img"), gzip ? FileWriters.Gzip(images) : images);
        File.WriteAllBytes(dir.File("lbl"), gzip ? FileWriters.Gzip(labels) : labels);

        using var x = IdxReader.ReadImages(dir.File("img"));
        using var y = IdxReader.ReadLabels(dir.File("lbl"));

        Assert.Equal(new long[] { 2, 3, 4 }, x.shape);
        Assert.Equal(ScalarType.Byte, x.dtype);
        Assert.Equal(123, x[1, 2, 3].item<byte>());
        Assert.Equal(12, x[0, 1, 2].item<byte>());
        Assert.Equal(new byte[] { 7, 9 }, y.data<byte>().ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Idx_RejectsTruncatedImageFile(bool gzip)
    {
        using var dir = new TempFolder();
        var images = FileWriters.IdxImages(5, 4, 4, Pixel);
        var cut = images[..^10];
        File.WriteAllBytes(dir.File("img"), gzip ? FileWriters.Gzip(cut) : cut);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(dir.File("img")));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("5 images of 4x4", e.Message);
    }

    [Fact]
    public void Idx_RejectsLabelsFileGivenAsImages()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("lbl"), FileWriters.IdxLabels(1, 2, 3));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(dir.File("lbl")));
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void Idx_RejectsCorruptGzip()
    {
        using var dir = new TempFolder();
        var gz = FileWriters.Gzip(FileWriters.IdxImages(20, 8, 8, Pixel));
        for (var i = 20; i < gz.Length - 10; i += 7) gz[i] ^= 0x5a;
        File.WriteAllBytes(dir.File("img.gz"), gz);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(dir.File("img.gz")));
        Assert.Contains("img.gz", e.Message);
    }

    [Fact]
    public void Idx_RejectsTrailingBytes()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("lbl"), [.. FileWriters.IdxLabels(1, 2), 0, 0]);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadLabels(dir.File("lbl")));
        Assert.Contains("longer than its header", e.Message);
    }
}
