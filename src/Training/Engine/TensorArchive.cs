using System.Text;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>A small, self-describing binary format for named tensors (weights, optimizer slots, RNG state):
/// name, dtype, shape and raw little-endian data per tensor. Independent of .NET and libtorch versions.</summary>
public static class TensorArchive
{
    private static readonly byte[] Magic = "TSTA\u0001"u8.ToArray();

    private static readonly ScalarType[] Supported =
        [ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Byte, ScalarType.Bool];

    /// <summary>Writes the archive straight from each tensor's memory (no managed copy of the data).</summary>
    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Value)> tensors)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        var list = tensors.ToList();
        w.Write(list.Count);
        foreach (var (name, value) in list)
        {
            if (!Supported.Contains(value.dtype)) throw new NotSupportedException($"tensor {name} has dtype {value.dtype}");
            using var t = value.detach().cpu().contiguous();
            w.Write(name);
            w.Write((byte)t.dtype);
            w.Write((int)t.dim());
            foreach (var d in t.shape) w.Write(d);
            var bytes = t.bytes;
            w.Write(bytes.Length);
            w.Write(bytes);
        }
    }

    /// <summary>The exact length <see cref="Write"/> produces, so a buffer or a database blob can be sized once.</summary>
    public static long Length(IEnumerable<(string Name, Tensor Value)> tensors) =>
        Magic.Length + sizeof(int) + tensors.Sum(x =>
        {
            var name = Encoding.UTF8.GetByteCount(x.Name);
            return PrefixLength(name) + name + 1 + sizeof(int) + sizeof(long) * x.Value.dim() + sizeof(int) + x.Value.NumberOfElements * x.Value.ElementSize;
        });

    /// <summary>Reads an archive, each tensor's data straight from the stream into the tensor's own memory.</summary>
    public static Dictionary<string, Tensor> Read(Stream stream)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            if (!r.ReadBytes(Magic.Length).SequenceEqual(Magic)) throw new InvalidDataException("not a tensor archive");
            var count = r.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var name = r.ReadString();
                var dtype = (ScalarType)r.ReadByte();
                if (!Supported.Contains(dtype)) throw new InvalidDataException($"tensor {name} has unsupported dtype {dtype}");
                var rank = r.ReadInt32();
                var shape = new long[rank];
                for (var d = 0; d < rank; d++) shape[d] = r.ReadInt64();
                var length = r.ReadInt32();
                var elementSize = dtype switch { ScalarType.Float64 or ScalarType.Int64 => 8, ScalarType.Float32 or ScalarType.Int32 => 4, _ => 1 };
                if (shape.Any(d => d < 0) || shape.Aggregate(1L, (a, b) => a * b) * elementSize != length)
                    throw new InvalidDataException($"tensor {name} holds {length} bytes for shape [{string.Join(", ", shape)}]");
                if (stream.CanSeek && stream.Length - stream.Position < length) throw new InvalidDataException("tensor archive is truncated");
                var t = empty(shape, dtype);
                result[name] = t;
                if (length > 0) stream.ReadExactly(t.bytes);
            }
            return result;
        }
        catch (Exception e) when (e is EndOfStreamException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new InvalidDataException("tensor archive is truncated", e);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>The archive as one array of exactly its length.</summary>
    public static byte[] ToBytes(IEnumerable<(string Name, Tensor Value)> tensors)
    {
        var list = tensors.ToList();
        var bytes = new byte[Length(list)];
        using var ms = new MemoryStream(bytes);
        Write(ms, list);
        return bytes;
    }

    /// <summary>Bytes of the 7-bit encoded length <see cref="BinaryWriter.Write(string)"/> puts before a string.</summary>
    private static int PrefixLength(int length)
    {
        var n = 1;
        while (length >= 0x80) { length >>= 7; n++; }
        return n;
    }
}
