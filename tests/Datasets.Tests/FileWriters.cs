using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace TrainingService.Datasets.Tests;

/// <summary>Writes small files in the canonical formats, independently of the code under test.</summary>
public static class FileWriters
{
    public static byte[] IdxImages(int count, int rows, int cols, Func<int, int, int, byte> pixel)
    {
        var bytes = new byte[16 + count * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (var n = 0; n < count; n++)
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++)
                    bytes[16 + n * rows * cols + r * cols + c] = pixel(n, r, c);
        return bytes;
    }

    public static byte[] IdxLabels(params byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>A CIFAR-10 record: label then R plane, G plane, B plane; pixel(channel, row, col).</summary>
    public static byte[] CifarBatch(int count, int labelBytes, Func<int, byte[]> labels, Func<int, int, int, int, byte> pixel)
    {
        var rec = labelBytes + 3072;
        var bytes = new byte[count * rec];
        for (var n = 0; n < count; n++)
        {
            labels(n).CopyTo(bytes, n * rec);
            for (var ch = 0; ch < 3; ch++)
                for (var r = 0; r < 32; r++)
                    for (var c = 0; c < 32; c++)
                        bytes[n * rec + labelBytes + ch * 1024 + r * 32 + c] = pixel(n, ch, r, c);
        }
        return bytes;
    }

    public static byte[] TarGz(IEnumerable<(string Name, byte[] Data)> files)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            foreach (var (name, data) in files)
            {
                var e = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
                tar.WriteEntry(e);
            }
        }
        return ms.ToArray();
    }

    /// <summary>A version-1 .npy file.</summary>
    public static byte[] Npy(string descr, long[] shape, byte[] data)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        var total = 10 + header.Length + 1;
        var pad = (64 - total % 64) % 64;
        header = header + new string(' ', pad) + "\n";
        using var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        var len = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        ms.Write(len);
        ms.Write(Encoding.Latin1.GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    public static byte[] Zip(IEnumerable<(string Name, byte[] Data)> files)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in files)
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(data);
            }
        }
        return ms.ToArray();
    }
}
