using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Formats;

/// <summary>Reads NumPy .npy arrays and .npz archives (a zip of .npy files). Numeric little-endian dtypes in C
/// order only: object arrays are pickles and are refused rather than unpickled.</summary>
public static partial class NpyReader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeader = 1 << 16;

    /// <summary>Every array of an .npz archive, keyed by name without ".npy".</summary>
    public static Dictionary<string, Tensor> ReadNpz(string path)
    {
        using var file = File.OpenRead(path);
        return ReadNpz(file, Path.GetFileName(path));
    }

    public static Dictionary<string, Tensor> ReadNpz(Stream stream, string name)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var entryStream = entry.Open();
                var key = entry.FullName[..^4];
                result[key] = Read(entryStream, $"{name}/{entry.FullName}");
            }
        }
        catch (InvalidDataException e)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new DatasetException($"{name}: not a readable .npz (zip) archive ({e.Message}).", e);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    public static Tensor Read(Stream stream, string name)
    {
        Span<byte> prefix = stackalloc byte[10];
        if (IdxReader.ReadFully(stream, prefix[..8], name) < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new DatasetException($"{name}: not a .npy array (it must start with \\x93NUMPY).");
        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            if (IdxReader.ReadFully(stream, prefix[8..10], name) < 2) throw Truncated(name, "header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..10]);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            if (IdxReader.ReadFully(stream, len, name) < 4) throw Truncated(name, "header length");
            headerLength = BinaryPrimitives.ReadInt32LittleEndian(len);
        }
        else
        {
            throw new DatasetException($"{name}: unsupported .npy format version {major}.");
        }
        if (headerLength <= 0 || headerLength > MaxHeader)
            throw new DatasetException($"{name}: implausible .npy header length {headerLength}.");
        var headerBytes = new byte[headerLength];
        if (IdxReader.ReadFully(stream, headerBytes, name) < headerLength) throw Truncated(name, "header");
        var header = Encoding.Latin1.GetString(headerBytes);

        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new DatasetException($"{name}: the .npy header is not a dict with 'descr', 'fortran_order' and 'shape': {header.Trim()}");
        var dtype = descr.Groups[1].Value;
        if (dtype.Contains('O'))
            throw new DatasetException($"{name}: holds an object array (dtype '{dtype}'), i.e. pickled Python objects; only numeric arrays are read.");
        if (fortran.Groups[1].Value == "True")
            throw new DatasetException($"{name}: Fortran-ordered arrays are not supported; save it in C order.");
        var scalar = dtype switch
        {
            "|u1" or "<u1" or "u1" => ScalarType.Byte,
            "|i1" or "<i1" or "i1" => ScalarType.Int8,
            "|b1" or "b1" => ScalarType.Bool,
            "<i2" => ScalarType.Int16,
            "<i4" => ScalarType.Int32,
            "<i8" => ScalarType.Int64,
            "<f2" => ScalarType.Float16,
            "<f4" => ScalarType.Float32,
            "<f8" => ScalarType.Float64,
            _ => throw new DatasetException(
                $"{name}: unsupported dtype '{dtype}'; accepted: |u1, |i1, |b1, <i2, <i4, <i8, <f2, <f4, <f8 (little-endian numeric)."),
        };
        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s.TrimEnd('L'), out var v) && v >= 0 ? v
                : throw new DatasetException($"{name}: bad shape in the .npy header: ({shapeMatch.Groups[1].Value})."))
            .ToArray();
        var elements = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = elements * ElementSize(scalar);
        if (bytes > int.MaxValue)
            throw new DatasetException($"{name}: array of {bytes} bytes is too large.");

        var tensor = empty(shape, scalar);
        try
        {
            var span = tensor.bytes;
            var read = IdxReader.ReadFully(stream, span, name);
            if (read < span.Length)
                throw new DatasetException($"{name}: truncated .npy data: shape ({string.Join(", ", shape)}) of '{dtype}' needs {span.Length} bytes, the file has {read}.");
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    private static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        _ => 8,
    };

    private static DatasetException Truncated(string name, string what) =>
        new($"{name}: truncated .npy file: the {what} is incomplete.");

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
