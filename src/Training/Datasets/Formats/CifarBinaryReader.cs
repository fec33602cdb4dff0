using System.Formats.Tar;
using System.IO.Compression;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Formats;

/// <summary>Reads the CIFAR binary version: records of label byte(s) then 1,024 R, 1,024 G, 1,024 B bytes (32x32,
/// row-major). Returns images in Keras's channels-last layout (N, 32, 32, 3) as uint8 and labels as uint8 (N).
/// CIFAR-10 records have one label byte; CIFAR-100 records have coarse then fine.</summary>
public static class CifarBinaryReader
{
    public const int ImageBytes = 32 * 32 * 3;

    public sealed record Split(Tensor Images, Tensor Labels);

    /// <summary>Reads one batch file's bytes. <paramref name="labelBytes"/> is 1 (CIFAR-10) or 2 (CIFAR-100);
    /// <paramref name="labelIndex"/> picks which label byte to keep (CIFAR-100: 0 = coarse, 1 = fine).</summary>
    public static Split ReadBatch(Stream stream, string name, int labelBytes, int labelIndex)
    {
        var record = labelBytes + ImageBytes;
        using var buffer = new MemoryStream();
        try
        {
            stream.CopyTo(buffer);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DatasetException($"{name}: corrupt or truncated compressed data ({e.Message}).", e);
        }
        var length = buffer.Length;
        if (length == 0 || length % record != 0)
        {
            throw new DatasetException(
                $"{name}: {length} bytes is not a whole number of CIFAR records of {record} bytes ({labelBytes} label byte(s) + 3,072 pixel bytes); the file is truncated or not a CIFAR batch.");
        }
        var n = length / record;
        using var raw = empty([n, record], ScalarType.Byte);
        buffer.GetBuffer().AsSpan(0, (int)length).CopyTo(raw.bytes);
        var labels = raw.select(1, labelIndex).clone();
        var images = raw.narrow(1, labelBytes, ImageBytes).reshape(n, 3, 32, 32).permute(0, 2, 3, 1).contiguous();
        return new Split(images, labels);
    }

    /// <summary>Concatenates the named batch files found in <paramref name="directory"/>.</summary>
    public static Split ReadFiles(string directory, IReadOnlyList<string> files, int labelBytes, int labelIndex)
    {
        var parts = new List<Split>();
        try
        {
            foreach (var f in files)
            {
                using var s = File.OpenRead(Path.Combine(directory, f));
                parts.Add(ReadBatch(s, f, labelBytes, labelIndex));
            }
            return Concat(parts);
        }
        finally
        {
            foreach (var p in parts) { p.Images.Dispose(); p.Labels.Dispose(); }
        }
    }

    /// <summary>Reads the named batch files (matched by file name, in the given order) from a .tar.gz, plus any
    /// text members requested in <paramref name="textFiles"/>.</summary>
    public static (Split Train, Split Test, Dictionary<string, string> Texts) ReadTarGz(
        string path, IReadOnlyList<string> trainFiles, IReadOnlyList<string> testFiles, IReadOnlyList<string> textFiles,
        int labelBytes, int labelIndex)
    {
        var batches = new Dictionary<string, Split>(StringComparer.Ordinal);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        var name = Path.GetFileName(path);
        try
        {
            using (var file = File.OpenRead(path))
            using (var gz = new GZipStream(file, CompressionMode.Decompress))
            using (var tar = new TarReader(gz))
            {
                TarEntry? entry;
                while ((entry = NextEntry(tar, name)) is not null)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                    var fileName = Path.GetFileName(entry.Name);
                    if (trainFiles.Contains(fileName) || testFiles.Contains(fileName))
                        batches[fileName] = ReadBatch(entry.DataStream, $"{name}:{entry.Name}", labelBytes, labelIndex);
                    else if (textFiles.Contains(fileName))
                        texts[fileName] = new StreamReader(entry.DataStream).ReadToEnd();
                }
            }
            var missing = trainFiles.Concat(testFiles).Where(f => !batches.ContainsKey(f)).ToList();
            if (missing.Count > 0)
                throw new DatasetException($"{name}: the archive lacks {string.Join(", ", missing)}; it is truncated or not the CIFAR binary version.");
            return (Concat(trainFiles.Select(f => batches[f]).ToList()), Concat(testFiles.Select(f => batches[f]).ToList()), texts);
        }
        finally
        {
            foreach (var p in batches.Values) { p.Images.Dispose(); p.Labels.Dispose(); }
        }
    }

    internal static TarEntry? NextEntry(TarReader tar, string name)
    {
        try
        {
            return tar.GetNextEntry(copyData: false);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DatasetException($"{name}: corrupt or truncated archive ({e.Message}).", e);
        }
    }

    private static Split Concat(IReadOnlyList<Split> parts) =>
        parts.Count == 1
            ? new Split(parts[0].Images.alias(), parts[0].Labels.alias())
            : new Split(cat(parts.Select(p => p.Images).ToArray(), 0), cat(parts.Select(p => p.Labels).ToArray(), 0));
}
