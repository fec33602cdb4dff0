using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using TrainingService.Api.Tests;
using Xunit.Abstractions;

namespace TrainingService.ProcessTests;

/// <summary>
/// Decompression and allocation bombs against the built service as its own process: each is refused with a 4xx, and
/// the process's peak resident memory (VmHWM) grows by less than 256 MB over the whole set. The bombs are generated
/// here (zeros deflate about 1000:1, so a 1.5 GB entry is a 1.5 MB upload).
/// </summary>
public sealed class HostileInputProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ts-hostile", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private const string TinyKeras = """
        {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
          {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "input"}},
          {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "softmax"}}]}}
        """;

    [Fact]
    public async Task Bombs_AreRefusedWith4xx_AndPeakMemoryGrowsLessThan256MB()
    {
        using var service = await ServiceProcess.StartAsync(_root);
        var client = service.Client;

        // A succeeded image model (digits, 8×8 greyscale) to send the PNG to; the same requests, harmless, warm up
        // every path first so that the measurement counts the bombs, not JIT and first-use buffers.
        var run = await client.SubmitAsync(Specs.Digits(epochs: 1));
        var id = run.GetProperty("id").GetGuid();
        var done = await client.WaitForAsync(id, r => r.GetProperty("status").GetString() is "succeeded" or "failed", TimeSpan.FromMinutes(3));
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        await Expect(client, "/api/models/convert", Multipart("file", "ok.keras", Keras(Encoding.UTF8.GetBytes(TinyKeras), weightsBytes: 0)), ok: true);
        await Expect(client, "/api/datasets", Multipart("file", "ok.csv", Encoding.UTF8.GetBytes("a,b,y\n1,2,0\n3,4,1\n")), ok: true);
        await Expect(client, $"/api/runs/{id}/predict", Multipart("file", "ok.png", Png(8, 8)), ok: true);
        var before = service.Memory().Peak;

        var bombs = new (string Name, string Url, HttpContent Content)[]
        {
            ("weights inflating to 1.5 GB", "/api/models/convert", Multipart("file", "weights.keras", Keras(Encoding.UTF8.GetBytes(TinyKeras), 1_500_000_000))),
            ("config.json inflating to 800 MB", "/api/models/convert", Multipart("file", "config.keras", Keras(null, 0, configBytes: 800_000_000))),
            ("CSV with 2,000,000 header columns", "/api/datasets", Multipart("file", "wide.csv", WideCsv(2_000_000))),
            ("PNG declaring 30,000 × 30,000", $"/api/runs/{id}/predict", Multipart("file", "huge.png", Png(30_000, 30_000))),
        };
        foreach (var (name, url, content) in bombs)
        {
            var watch = Stopwatch.StartNew();
            var status = await Expect(client, url, content, ok: false);
            output.WriteLine($"{name}: {(int)status} in {watch.ElapsedMilliseconds} ms, upload {content.Headers.ContentLength ?? 0:N0} bytes");
        }
        var after = service.Memory().Peak;
        output.WriteLine($"VmHWM {before:F0} MB before, {after:F0} MB after: +{after - before:F0} MB");
        Assert.True(after - before < 256, $"peak resident memory grew by {after - before:F0} MB");
        // The process is still up and serving.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }

    private static async Task<System.Net.HttpStatusCode> Expect(HttpClient client, string url, HttpContent content, bool ok)
    {
        using var response = await client.PostAsync(url, content);
        var body = await response.Content.ReadAsStringAsync();
        var code = (int)response.StatusCode;
        if (ok) Assert.True(code is >= 200 and < 300, $"{url}: {code} {body}");
        else
        {
            Assert.True(code is >= 400 and < 500, $"{url}: {code} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        return response.StatusCode;
    }

    private static MultipartFormDataContent Multipart(string field, string fileName, byte[] bytes)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent { { file, field, fileName } };
    }

    /// <summary>A .keras zip: config.json (the given document, or <paramref name="configBytes"/> spaces), metadata.json,
    /// and model.weights.h5 of <paramref name="weightsBytes"/> zeros when positive.</summary>
    private static byte[] Keras(byte[]? config, long weightsBytes, long configBytes = 0)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var s = zip.CreateEntry("metadata.json", CompressionLevel.Fastest).Open()) s.Write("""{"keras_version": "3.11.3"}"""u8);
            using (var s = zip.CreateEntry("config.json", CompressionLevel.Fastest).Open())
            {
                if (config is not null) s.Write(config);
                else Fill(s, configBytes, (byte)' ');
            }
            if (weightsBytes > 0)
            {
                using var s = zip.CreateEntry("model.weights.h5", CompressionLevel.Fastest).Open();
                Fill(s, weightsBytes, 0);
            }
        }
        return output.ToArray();
    }

    private static void Fill(Stream s, long count, byte value)
    {
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, value);
        for (var left = count; left > 0; left -= chunk.Length) s.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
    }

    private static byte[] WideCsv(int columns)
    {
        var text = new StringBuilder(columns * 9);
        for (var c = 0; c < columns; c++) text.Append(c == 0 ? "" : ",").Append('c').Append(c);
        text.Append('\n');
        for (var c = 0; c < columns; c++) text.Append(c == 0 ? "1" : ",1");
        text.Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>A greyscale PNG whose header declares <paramref name="width"/> × <paramref name="height"/>; its pixel
    /// data is a real, tiny image only when the size is small (a decoder that trusted the header would allocate it all).</summary>
    private static byte[] Png(int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (greyscale), compression, filter, interlace 0
        Chunk(output, "IHDR", ihdr);
        var rows = width * height <= 4096 ? height : 1;
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
                for (var r = 0; r < rows; r++) z.Write(new byte[width + 1]);
            Chunk(output, "IDAT", raw.ToArray());
        }
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var header = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        output.Write(header);
        output.Write(data);
        var crc = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. header.AsSpan(4), .. data]));
        output.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
