using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

public class TensorArchiveTests
{
    private static List<(string, Tensor)> Sample() =>
    [
        ("dense/kernel", arange(12, dtype: ScalarType.Float32).reshape(3, 4) / 7f),
        ("dense/bias", tensor(new double[] { -1.5, 2.25 })),
        ("steps", tensor(42L)),
        ("counts", tensor(new[] { 1, 2, 3 })),
        ("mask", tensor(new[] { true, false, true })),
        ("bytes", tensor(new byte[] { 0, 255 })),
        ("empty", zeros(0, 5)),
        ("überlong-" + new string('x', 200), ones(2, 2).t()),   // a multi-byte name with a two-byte length prefix; a transposed view
    ];

    [Fact]
    public void RoundTrip_KeepsNamesDtypesShapesAndValues_AndLengthIsExact()
    {
        var tensors = Sample();
        var bytes = TensorArchive.ToBytes(tensors);
        using var ms = new MemoryStream(bytes);

        var read = TensorArchive.Read(ms);

        Assert.Equal(TensorArchive.Length(tensors), bytes.LongLength);
        Assert.Equal(ms.Length, ms.Position);
        Assert.Equal(tensors.Select(t => t.Item1), read.Keys);
        foreach (var (name, value) in tensors)
        {
            Assert.Equal(value.dtype, read[name].dtype);
            Assert.Equal(value.shape, read[name].shape);
            Assert.True(value.eq(read[name]).all().item<bool>(), name);
        }
        foreach (var t in read.Values.Concat(tensors.Select(t => t.Item2))) t.Dispose();
    }

    [Fact]
    public void Read_OfATruncatedArchive_IsInvalidData_AndLeavesNoTensorBehind()
    {
        var bytes = TensorArchive.ToBytes(Sample());

        Assert.Throws<InvalidDataException>(() => TensorArchive.Read(new MemoryStream(bytes[..^3])));
        Assert.Throws<InvalidDataException>(() => TensorArchive.Read(new NonSeekable(bytes[..^3])));
    }

    /// <summary>A database column stream: no length, no seeking.</summary>
    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
    }
}
