using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using Xunit.Abstractions;

namespace TrainingService.Api.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing over the real app (CsCheck): mutated run specs, sweeps, prediction bodies, CSV uploads, Keras
/// JSON documents, .keras archives (their HDF5 weights entry included) and .weights.h5 files. Every answer must be a
/// 2xx, or a 4xx with a ProblemDetails body; never a 5xx, never a hang (each request has 30 s), and the service still
/// answers afterwards. A failure prints the smallest input CsCheck found and the seed that reproduces it.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    // Accepted runs are cancelled at once; the quota keeps at most two active, so most valid mutants are checked
    // to the end (validation, then the quota) without training.
    private readonly ServiceFactory _factory = new(("Quotas:MaxActiveRuns", "2"), ("Quotas:MaxConcurrentTrials", "1"),
        ("Requests:SubmissionsPerMinute", "1000000"), ("Requests:PredictionsPerMinute", "1000000"), ("Logging:LogLevel:Default", "Critical"));

    public void Dispose() => _factory.Dispose();

    private HttpClient Client()
    {
        var client = _factory.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        return client;
    }

    /// <summary>The property: a 2xx, or a 4xx ProblemDetails. Returns the status for callers that follow up.</summary>
    private static async Task<HttpStatusCode> AssertHandledAsync(HttpResponseMessage response, string what)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        if (status is >= 200 and < 300) return response.StatusCode;
        if (status is < 400 or >= 500)
            throw new Xunit.Sdk.XunitException($"{what} answered {status}: {text[..Math.Min(text.Length, 2000)]}");
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            throw new Xunit.Sdk.XunitException($"{what} answered {status} without ProblemDetails ({response.Content.Headers.ContentType}): {text[..Math.Min(text.Length, 500)]}");
        using var doc = JsonDocument.Parse(text);
        if (!doc.RootElement.TryGetProperty("status", out _))
            throw new Xunit.Sdk.XunitException($"{what} answered {status} with a ProblemDetails without status: {text}");
        return response.StatusCode;
    }

    private static readonly Gen<(int Seed, int Edits)> Mutations = Gen.Select(Gen.Int, Gen.Int[1, 6]);

    private async Task RunAsync(string name, long iterations, Func<(int Seed, int Edits), Task> check)
    {
        var clock = Stopwatch.StartNew();
        await Mutations.SampleAsync(check, iter: iterations, threads: 2, print: m => $"seed {m.Seed}, {m.Edits} edits");
        output.WriteLine($"{name}: {iterations} cases in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private async Task AssertStillUpAsync(HttpClient client) =>
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

    [Fact]
    public async Task RunSpecsAndSweeps_NeverAnswer5xx()
    {
        var client = Client();
        var csv = (await (await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv))).JsonAsync()).GetProperty("name").GetString()!;
        string[] bases =
        [
            Specs.Digits(epochs: 1),
            Specs.SizesRun(csv),
            SweepSpecs.IrisCrossValidation("""{"folds": 3}""", epochs: 1),
            $$$"""{"name": "keras", "dataset": {"name": "digits"}, "model": {{{Corpus("k2_tf24_sequential_mlp.json")}}}, "fit": {"epochs": 1}}""",
        ];
        var sweep = $$$"""
            {"base": {{{SweepSpecs.IrisBase(epochs: 1)}}}, "method": "random", "max_trials": 2, "max_concurrent_trials": 1,
             "space": {"compile.optimizer.learning_rate": {"log_uniform": [0.0001, 0.01]}, "model.layers[0].units": {"choice": [2, 8]}}, "objective": {"metric": "val_loss"}}
            """;

        await RunAsync("run specs", 3000, async m =>
        {
            var body = Mutator.Json(bases[(m.Seed & 0x7fffffff) % bases.Length], m.Seed, m.Edits);
            using var response = await client.PostAsync("/api/runs", Specs.Json(body));
            if (await AssertHandledAsync(response, $"POST /api/runs {body}") == HttpStatusCode.Accepted)
                await client.PostAsync($"/api/runs/{(await response.JsonAsync()).Id()}/cancel", null);
        });
        await RunAsync("sweeps", 300, async m =>
        {
            var body = Mutator.Json(sweep, m.Seed, m.Edits);
            using var response = await client.PostAsync("/api/sweeps", Specs.Json(body));
            if (await AssertHandledAsync(response, $"POST /api/sweeps {body}") == HttpStatusCode.Accepted)
                await client.PostAsync($"/api/sweeps/{(await response.JsonAsync()).GetProperty("id").GetGuid()}/cancel", null);
        });
        await AssertStillUpAsync(client);
    }

    [Fact]
    public async Task PredictionBodies_NeverAnswer5xx()
    {
        var client = Client();
        var csv = (await (await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv))).JsonAsync()).GetProperty("name").GetString()!;
        var digits = (await client.SubmitAsync(Specs.Digits(epochs: 1, name: "fuzz-digits"))).Id();
        var sizes = (await client.SubmitAsync(Specs.SizesRun(csv).Replace("\"epochs\": 40", "\"epochs\": 2"))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(digits, Patience)).Status());
        Assert.Equal("succeeded", (await client.WaitForEndAsync(sizes, Patience)).Status());
        (Guid Run, string Body)[] bases = [(digits, Specs.DigitInstances), (sizes, Specs.SizesInstances)];

        await RunAsync("prediction bodies", 3000, async m =>
        {
            var (run, instances) = bases[(m.Seed & 0x7fffffff) % bases.Length];
            var body = Mutator.Json(instances, m.Seed, m.Edits);
            using var response = await client.PostAsync($"/api/runs/{run}/predict", Specs.Json(body));
            await AssertHandledAsync(response, $"POST /api/runs/{run}/predict {body}");
        });
        await RunAsync("image files", 300, async m =>
        {
            // Image bytes where the digits model expects pixels: random and truncated PNG-looking files.
            var random = new Random(m.Seed);
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            if (random.Next(2) == 0 && bytes.Length >= 8) new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
            using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "x.png" } };
            using var response = await client.PostAsync($"/api/runs/{digits}/predict", form);
            await AssertHandledAsync(response, $"POST predict with a {bytes.Length}-byte file");
        });
        await AssertStillUpAsync(client);
    }

    /// <summary>The protocols' own property: a 2xx, or a 4xx whose body is their error object (<c>{"error": "…"}</c>).</summary>
    private static async Task<bool> AssertProtocolHandledAsync(HttpResponseMessage response, string what)
    {
        var status = (int)response.StatusCode;
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (status is >= 200 and < 300) return true;
        var text = Encoding.UTF8.GetString(bytes);
        if (status is < 400 or >= 500)
            throw new Xunit.Sdk.XunitException($"{what} answered {status}: {text[..Math.Min(text.Length, 2000)]}");
        using var doc = JsonDocument.Parse(bytes);
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String)
            throw new Xunit.Sdk.XunitException($"{what} answered {status} without the protocol's error object: {text[..Math.Min(text.Length, 500)]}");
        return false;
    }

    private static ByteArrayContent Bytes(byte[] body, string mediaType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    [Fact]
    public async Task InferenceProtocolBodies_JsonBinaryAndDamagedBytes_NeverAnswer5xx()
    {
        const string model = "fuzz-protocols";
        var client = Client();
        var run = (await client.SubmitAsync(Specs.Digits(epochs: 1, name: model))).Id();
        Assert.Equal("succeeded", (await client.WaitForEndAsync(run, Patience)).Status());
        var metadata = await (await client.GetAsync($"/v2/models/{model}")).JsonAsync();
        var inputName = metadata.GetProperty("inputs")[0].GetProperty("name").GetString();
        var outputName = metadata.GetProperty("outputs")[0].GetProperty("name").GetString();
        var pixels = string.Join(", ", Enumerable.Range(0, 128).Select(i => (i * 7) % 17));
        var infer = $$$"""
            {"id": "fuzz", "inputs": [{"name": "{{{inputName}}}", "shape": [2, 8, 8], "datatype": "FP32", "data": [{{{pixels}}}]}],
             "outputs": [{"name": "{{{outputName}}}", "parameters": {"binary_data": false}}]}
            """;
        var instances = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances").GetRawText();
        string[] tfServing = [Specs.DigitInstances, Specs.DigitInstances.Replace("\"instances\"", "\"inputs\""),
            "{\"signature_name\": \"serving_default\", \"inputs\": {\"" + inputName + "\": " + instances + "}}"];

        // How many mutants were still served: the property means little if none reaches the model.
        var served = new int[3];
        await RunAsync("v2 infer json", 1500, async m =>
        {
            var body = Mutator.Json(infer, m.Seed, m.Edits);
            using var response = await client.PostAsync($"/v2/models/{model}/infer", Specs.Json(body));
            if (await AssertProtocolHandledAsync(response, $"POST /v2/models/{model}/infer {body}")) Interlocked.Increment(ref served[0]);
        });
        await RunAsync("tf serving predict", 1000, async m =>
        {
            var body = Mutator.Json(tfServing[(m.Seed & 0x7fffffff) % tfServing.Length], m.Seed, m.Edits);
            using var response = await client.PostAsync($"/v1/models/{model}:predict", Specs.Json(body));
            if (await AssertProtocolHandledAsync(response, $"POST /v1/models/{model}:predict {body}")) Interlocked.Increment(ref served[1]);
        });
        await RunAsync("v2 infer binary", 1000, async m =>
        {
            // The binary extension: a (mutated) JSON header, a header length that may lie, then the tensor's bytes:
            // 128 pixels as FP32 or UINT8, or (one time in three) random bytes of a random length.
            var random = new Random(m.Seed);
            var datatype = random.Next(2) == 0 ? "FP32" : "UINT8";
            var binaryOut = random.Next(2) == 0 ? "true" : "false";
            var pixels = Enumerable.Range(0, 128).Select(_ => (byte)random.Next(0, 17)).ToArray();
            var tensor = datatype == "UINT8" ? pixels : pixels.SelectMany(p => BitConverter.GetBytes((float)p)).ToArray();
            if (random.Next(3) == 0)
            {
                tensor = new byte[random.Next(0, 1200)];
                random.NextBytes(tensor);
            }
            var header = Encoding.UTF8.GetBytes(Mutator.Json($$$"""
                {"inputs": [{"name": "{{{inputName}}}", "shape": [2, 8, 8], "datatype": "{{{datatype}}}", "parameters": {"binary_data_size": {{{tensor.Length}}}}}],
                 "outputs": [{"name": "{{{outputName}}}", "parameters": {"binary_data": {{{binaryOut}}}}}]}
                """, m.Seed, m.Edits - 1));
            string[] lengths = [header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), random.Next(-5, header.Length + tensor.Length + 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "2147483648", "-1", "", "abc", "1e3", " 12"];
            var length = lengths[random.Next(3) == 0 ? random.Next(lengths.Length) : 0];
            using var content = Bytes([.. header, .. tensor], "application/octet-stream");
            content.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", length);
            using var response = await client.PostAsync($"/v2/models/{model}/infer", content);
            if (await AssertProtocolHandledAsync(response, $"POST binary infer, header length '{length}' of {header.Length}, {tensor.Length} tensor bytes, seed {m.Seed}"))
                Interlocked.Increment(ref served[2]);
        });
        await RunAsync("damaged bytes", 1000, async m =>
        {
            // Valid requests damaged as bytes (invalid UTF-8, stray control bytes) on every JSON endpoint that serves.
            var random = new Random(m.Seed);
            var (path, body, protocol) = random.Next(3) switch
            {
                0 => ($"/v2/models/{model}/infer", infer, true),
                1 => ($"/v1/models/{model}:predict", Specs.DigitInstances, true),
                _ => ($"/api/runs/{run}/predict", Specs.DigitInstances, false),
            };
            var bytes = Mutator.Bytes(Encoding.UTF8.GetBytes(body), random, m.Edits);
            using var response = await client.PostAsync(path, Bytes(bytes, "application/json"));
            var what = $"POST {path} with {m.Edits} damaged bytes, seed {m.Seed}";
            if (protocol) await AssertProtocolHandledAsync(response, what);
            else await AssertHandledAsync(response, what);
        });
        output.WriteLine($"served: {served[0]} v2 json, {served[1]} tf serving, {served[2]} v2 binary");
        Assert.All(served, n => Assert.True(n > 0));
        await AssertStillUpAsync(client);
    }

    [Fact]
    public async Task CsvUploads_AndRunsOnThem_NeverAnswer5xx()
    {
        var client = Client();
        await RunAsync("csv uploads", 600, async m =>
        {
            var csv = Mutator.Csv(Specs.SizesCsv, m.Seed, m.Edits);
            using var response = await client.PostAsync("/api/datasets", Specs.CsvFile(csv));
            if (await AssertHandledAsync(response, $"POST /api/datasets {csv}") != HttpStatusCode.Created) return;
            // What the upload accepted, a run must take or refuse with a 400, whatever the columns turned out to be.
            var name = (await response.JsonAsync()).GetProperty("name").GetString()!;
            var spec = Specs.SizesRun(name).Replace("\"epochs\": 40", "\"epochs\": 1");
            using var run = await client.PostAsync("/api/runs", Specs.Json(spec));
            if (await AssertHandledAsync(run, $"POST /api/runs on {csv}") == HttpStatusCode.Accepted)
                await client.PostAsync($"/api/runs/{(await run.JsonAsync()).Id()}/cancel", null);
        });
        await AssertStillUpAsync(client);
    }

    [Fact]
    public async Task KerasDocumentsAndArchives_NeverAnswer5xx()
    {
        var client = Client();
        var corpus = Directory.GetFiles(CorpusFolder(), "*.json").Select(File.ReadAllText).ToArray();
        await RunAsync("keras json", 1500, async m =>
        {
            var body = Mutator.Json(corpus[(m.Seed & 0x7fffffff) % corpus.Length], m.Seed, m.Edits);
            using var response = await client.PostAsync("/api/models/convert", Specs.Json(body));
            await AssertHandledAsync(response, $"POST /api/models/convert {body[..Math.Min(body.Length, 3000)]}");
        });

        var archive = DigitsArchive();
        await RunAsync(".keras archives", 2000, async m =>
        {
            var bytes = Mutator.Archive(archive, m.Seed, m.Edits);
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            using var form = new MultipartFormDataContent { { file, "file", "model.keras" } };
            using var response = await client.PostAsync("/api/models/convert", form);
            await AssertHandledAsync(response, $"POST /api/models/convert with a mutated archive ({bytes.Length} bytes, seed {m.Seed})");
        });

        // The same HDF5 weights on their own (a Keras 3 .weights.h5) beside the architecture, damaged as bytes.
        var (config, weights) = Entries(archive);
        Task<HttpResponseMessage> ConvertWeightsAsync(byte[] bytes) => client.PostAsync("/api/models/convert",
            new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "model.weights.h5" }, { new StringContent(config), "architecture" } });
        using (var whole = await ConvertWeightsAsync(weights)) Assert.Equal(HttpStatusCode.OK, whole.StatusCode);   // so the mutants reach the HDF5 reader
        await RunAsync(".weights.h5 files", 500, async m =>
        {
            var bytes = Mutator.Hdf5(weights, new Random(m.Seed), m.Edits);
            using var response = await ConvertWeightsAsync(bytes);
            await AssertHandledAsync(response, $"POST /api/models/convert with a mutated .weights.h5 ({bytes.Length} bytes, seed {m.Seed})");
        });
        await AssertStillUpAsync(client);
    }

    private static string CorpusFolder()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "TrainingService.sln"))) dir = Path.GetDirectoryName(dir)!;
        return Path.Combine(dir, "tests", "Training.Tests", "Keras", "Corpus");
    }

    private static string Corpus(string file) => File.ReadAllText(Path.Combine(CorpusFolder(), file));

    /// <summary>An archive's config.json (as text) and model.weights.h5.</summary>
    private static (string Config, byte[] Weights) Entries(byte[] archive)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(archive));
        string Text(string name)
        {
            using var reader = new StreamReader(zip.GetEntry(name)!.Open());
            return reader.ReadToEnd();
        }
        using var weights = new MemoryStream();
        using (var s = zip.GetEntry(KerasArchive.WeightsEntry)!.Open()) s.CopyTo(weights);
        return (Text(KerasArchive.ConfigEntry), weights.ToArray());
    }

    /// <summary>The digits MLP as a .keras archive with weights (what KerasApiTests round-trips).</summary>
    private static byte[] DigitsArchive()
    {
        float[] Values(int n, int seed) => Enumerable.Range(0, n).Select(i => (float)(0.3 * Math.Sin(1.3 * i + seed))).ToArray();
        var config = KerasExporter.Export(TrainingPlan.Parse(JsonDocument.Parse("""
            {"input_shape": [8, 8], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 16, "activation": "relu"},
                                                {"type": "Dense", "units": 10, "activation": "softmax"}]}
            """).RootElement, JsonDocument.Parse("""{"loss": "mse"}""").RootElement, null).Model, "digits_mlp");
        return KerasArchive.Create(config, new Dictionary<string, (float[], long[])>
        {
            ["layers/dense/vars/0"] = (Values(64 * 16, 1), [64, 16]), ["layers/dense/vars/1"] = (Values(16, 2), [16]),
            ["layers/dense_1/vars/0"] = (Values(16 * 10, 3), [16, 10]), ["layers/dense_1/vars/1"] = (Values(10, 4), [10]),
        });
    }
}
