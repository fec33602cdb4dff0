using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>A small, self-describing binary format for named tensors (weights, optimizer slots, RNG state):
/// name, dtype, shape and raw little-endian data per tensor. Independent of .NET and libtorch versions.</summary>
public static class TensorArchive
{
    private static readonly byte[] Magic = "TSTA\u0001"u8.ToArray();

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Value)> tensors)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        var list = tensors.ToList();
        w.Write(list.Count);
        foreach (var (name, value) in list)
        {
            using var t = value.detach().cpu().contiguous();
            w.Write(name);
            w.Write((byte)t.dtype);
            w.Write((int)t.dim());
            foreach (var d in t.shape) w.Write(d);
            switch (t.dtype)
            {
                case ScalarType.Float32: WriteSpan<float>(w, t); break;
                case ScalarType.Float64: WriteSpan<double>(w, t); break;
                case ScalarType.Int64: WriteSpan<long>(w, t); break;
                case ScalarType.Int32: WriteSpan<int>(w, t); break;
                case ScalarType.Byte: WriteSpan<byte>(w, t); break;
                case ScalarType.Bool: WriteSpan<bool>(w, t); break;
                default: throw new NotSupportedException($"tensor {name} has dtype {t.dtype}");
            }
        }
    }

    public static Dictionary<string, Tensor> Read(Stream stream)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (!r.ReadBytes(Magic.Length).SequenceEqual(Magic)) throw new InvalidDataException("not a tensor archive");
        var count = r.ReadInt32();
        var result = new Dictionary<string, Tensor>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadString();
            var dtype = (ScalarType)r.ReadByte();
            var rank = r.ReadInt32();
            var shape = new long[rank];
            for (var d = 0; d < rank; d++) shape[d] = r.ReadInt64();
            result[name] = dtype switch
            {
                ScalarType.Float32 => tensor(ReadArray<float>(r, shape), shape),
                ScalarType.Float64 => tensor(ReadArray<double>(r, shape), shape),
                ScalarType.Int64 => tensor(ReadArray<long>(r, shape), shape),
                ScalarType.Int32 => tensor(ReadArray<int>(r, shape), shape),
                ScalarType.Byte => tensor(ReadArray<byte>(r, shape), shape),
                ScalarType.Bool => tensor(ReadArray<bool>(r, shape), shape),
                _ => throw new InvalidDataException($"tensor {name} has unsupported dtype {dtype}"),
            };
        }
        return result;
    }

    public static byte[] ToBytes(IEnumerable<(string Name, Tensor Value)> tensors)
    {
        using var ms = new MemoryStream();
        Write(ms, tensors);
        return ms.ToArray();
    }

    private static void WriteSpan<T>(BinaryWriter w, Tensor t) where T : unmanaged
    {
        var data = t.data<T>().ToArray();
        var bytes = MemoryMarshal.AsBytes(data.AsSpan());
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static T[] ReadArray<T>(BinaryReader r, long[] shape) where T : unmanaged
    {
        var length = r.ReadInt32();
        var bytes = r.ReadBytes(length);
        if (bytes.Length != length) throw new InvalidDataException("tensor archive is truncated");
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var array = MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        if (array.Length != count) throw new InvalidDataException("tensor archive holds a tensor of the wrong size");
        return array;
    }
}
