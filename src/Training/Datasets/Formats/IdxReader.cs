using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Formats;

/// <summary>Reads the IDX files of the MNIST family (big-endian header, then unsigned bytes), gzip'd or raw.
/// Pixels are read straight into the tensor's memory: no managed copy of the image data.</summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;
    private const int MaxCount = 10_000_000;
    private const int MaxSide = 4096;

    /// <summary>An images file: uint8 tensor (count, rows, cols).</summary>
    public static Tensor ReadImages(string path)
    {
        using var stream = OpenMaybeGzip(path);
        return ReadImages(stream, Path.GetFileName(path));
    }

    /// <summary>A labels file: uint8 tensor (count).</summary>
    public static Tensor ReadLabels(string path)
    {
        using var stream = OpenMaybeGzip(path);
        return ReadLabels(stream, Path.GetFileName(path));
    }

    public static Tensor ReadImages(Stream stream, string name)
    {
        Span<byte> header = stackalloc byte[16];
        ReadHeader(stream, header, name, ImagesMagic, "an images file (0x00000803: unsigned bytes, 3 dimensions)");
        var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        var cols = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count < 0 || count > MaxCount || rows <= 0 || rows > MaxSide || cols <= 0 || cols > MaxSide
            || (long)count * rows * cols > int.MaxValue)
        {
            throw new DatasetException($"{name}: implausible IDX header (count {count}, rows {rows}, cols {cols}).");
        }
        var tensor = empty([count, rows, cols], ScalarType.Byte);
        FillExactly(stream, tensor, name, $"{count} images of {rows}x{cols}");
        return tensor;
    }

    public static Tensor ReadLabels(Stream stream, string name)
    {
        Span<byte> header = stackalloc byte[8];
        ReadHeader(stream, header, name, LabelsMagic, "a labels file (0x00000801: unsigned bytes, 1 dimension)");
        var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 0 || count > MaxCount)
            throw new DatasetException($"{name}: implausible IDX label count {count}.");
        var tensor = empty([count], ScalarType.Byte);
        FillExactly(stream, tensor, name, $"{count} labels");
        return tensor;
    }

    /// <summary>Opens a file, decompressing when it starts with the gzip magic (whatever its name says).</summary>
    public static Stream OpenMaybeGzip(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        var n = file.Read(magic);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
            ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: false)
            : file;
    }

    private static void ReadHeader(Stream stream, Span<byte> header, string name, int magic, string what)
    {
        var read = ReadFully(stream, header, name);
        if (read >= 4) CheckMagic(header, magic, name, what);
        if (read < header.Length)
            throw new DatasetException($"{name}: truncated IDX file: the header needs {header.Length} bytes, the file has {read}.");
    }

    private static void CheckMagic(ReadOnlySpan<byte> header, int expected, string name, string what)
    {
        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expected)
            throw new DatasetException($"{name}: not {what}; magic number is 0x{magic:x8}.");
    }

    private static void FillExactly(Stream stream, Tensor tensor, string name, string what)
    {
        try
        {
            var span = tensor.bytes;
            var read = ReadFully(stream, span, name);
            if (read < span.Length)
                throw new DatasetException($"{name}: truncated IDX file: the header promises {what} ({span.Length} data bytes), the file has {read}.");
            Span<byte> one = stackalloc byte[1];
            if (ReadFully(stream, one, name) != 0)
                throw new DatasetException($"{name}: the IDX file is longer than its header says ({what}).");
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    internal static int ReadFully(Stream stream, Span<byte> buffer, string name)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = stream.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"{name}: corrupt compressed data ({e.Message}).", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DatasetException($"{name}: the compressed stream ends early ({e.Message}).", e);
        }
        return total;
    }
}
