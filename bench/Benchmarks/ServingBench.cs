using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TrainingService.Bench;

/// <summary>One load-generator run: wrk, closed loop, <see cref="Clients"/> connections over loopback.</summary>
public sealed record ServingPoint(string Target, string Mode, int Clients, double RequestsPerSecond, double P50Ms, double P99Ms, long Errors, int Instances = 1)
{
    public double PredictionsPerSecond => RequestsPerSecond * Instances;
}

/// <summary>A load target: what wrk sends (body file, content type, the v2 binary header length) and how many
/// instances each request carries.</summary>
public sealed record ServingTarget(string Name, string Url, string? BodyFile, int Instances = 1, string ContentType = "application/json", int? HeaderLength = null);

/// <summary>Resident memory a restored model adds to the serving process (RSS before and after its first prediction).</summary>
public sealed record ModelMemory(string Model, double BeforeMb, double AfterMb);

public static class ServingBench
{
    public static string? Wrk() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "wrk")).FirstOrDefault(File.Exists);

    /// <summary>A single-instance predict body for each model: a Fashion-MNIST image (or random pixels) for the MLP,
    /// a CIFAR-shaped image for the CNN, in the raw form the dataset stores (ints 0–255, H×W or H×W×C).</summary>
    public static string Body(string model)
    {
        var rng = new Random(7);
        string Row(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(_ => rng.Next(256))) + "]";
        return model == "mlp"
            ? "{\"instances\": [[" + string.Join(",", Enumerable.Range(0, 28).Select(_ => Row(28))) + "]]}"
            : "{\"instances\": [[" + string.Join(",", Enumerable.Range(0, 32).Select(_ => "[" + string.Join(",", Enumerable.Range(0, 32).Select(_ => Row(3))) + "]")) + "]]}";
    }

    public static ServingPoint Load(string wrk, string script, ServingTarget target, string mode, int clients, int seconds)
    {
        var threads = Math.Min(2, clients);
        var info = new ProcessStartInfo(wrk, ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture),
            "-d", $"{seconds}s", "--timeout", "10s", "-s", script, target.Url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["WRK_METHOD"] = target.BodyFile is null ? "GET" : "POST";
        info.Environment["WRK_BODY"] = target.BodyFile ?? "";
        info.Environment["WRK_CONTENT_TYPE"] = target.ContentType;
        info.Environment["WRK_HEADER_LENGTH"] = target.HeaderLength?.ToString(CultureInfo.InvariantCulture) ?? "";
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRKJSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no summary:\n{output}\n{stderr.Result}");
        var j = JsonDocument.Parse(line["WRKJSON ".Length..]).RootElement;
        var requests = j.GetProperty("requests").GetInt64();
        var duration = j.GetProperty("duration_us").GetInt64() / 1e6;
        return new ServingPoint(target.Name, mode, clients, requests / duration, j.GetProperty("p50_us").GetInt64() / 1000.0,
            j.GetProperty("p99_us").GetInt64() / 1000.0, j.GetProperty("errors").GetInt64() + j.GetProperty("non2xx").GetInt64(), target.Instances);
    }

    /// <summary>Random MNIST-shaped pixels (0–255) for <paramref name="count"/> instances, row-major.</summary>
    public static int[] Pixels(int count)
    {
        var rng = new Random(7);
        return Enumerable.Range(0, count * 784).Select(_ => rng.Next(256)).ToArray();
    }

    /// <summary>A v2 inference request with one instance as a JSON tensor.</summary>
    public static string V2JsonBody(string input, string datatype) =>
        $$"""{"inputs": [{"name": "{{input}}", "shape": [1, 28, 28], "datatype": "{{datatype}}", "data": [{{string.Join(",", Pixels(1))}}]}]}""";

    /// <summary>A v2 inference request with the binary tensor data extension: <paramref name="count"/> instances as
    /// one tensor after the JSON header (one byte per pixel for UINT8, four for FP32), outputs returned in binary.</summary>
    public static (byte[] Body, int HeaderLength) V2BinaryBody(string input, string datatype, int count)
    {
        var pixels = Pixels(count);
        var data = datatype == "UINT8"
            ? pixels.Select(v => (byte)v).ToArray()
            : pixels.SelectMany(v => BitConverter.GetBytes((float)v)).ToArray();
        var header = System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"inputs": [{"name": "{{{input}}}", "shape": [{{{count}}}, 28, 28], "datatype": "{{{datatype}}}", "parameters": {"binary_data_size": {{{data.Length}}}}}], "parameters": {"binary_data_output": true}}""");
        return ([.. header, .. data], header.Length);
    }
}
