using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PureHDF;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;

namespace TrainingService.Api.Tests;

/// <summary>Keras models through the API: convert without training, runs from Keras JSON and from .keras archives
/// (fine-tuning, or served as they are with 0 epochs), and export back to Keras 3 JSON.</summary>
public class KerasApiTests : ServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public KerasApiTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="KerasApiTestsOnPostgres"/>).</summary>
    protected KerasApiTests(PostgresServer? postgres) : base(postgres)
    {
    }

    private static string Corpus(string file)
    {
        var dir = AppContext.BaseDirectory;
        while (!System.IO.File.Exists(Path.Combine(dir, "TrainingService.sln"))) dir = Path.GetDirectoryName(dir)!;
        return System.IO.File.ReadAllText(Path.Combine(dir, "tests", "Training.Tests", "Keras", "Corpus", file));
    }

    /// <summary>A tf.keras 2.4 Sequential for the digits set (8×8 → Flatten → Dense 16 relu → Dense 10 softmax).</summary>
    private const string DigitsKeras2 = """
        {"class_name": "Sequential", "keras_version": "2.4.0", "backend": "tensorflow", "config": {"name": "digits_mlp", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8], "dtype": "float32", "sparse": false, "ragged": false, "name": "flatten_input"}},
          {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"}},
          {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 16, "activation": "relu", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
          {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 10, "activation": "softmax", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}]}}
        """;

    private const string DigitsDataset = """{"name": "digits", "preprocessing": {"rescale": 0.0625, "test_fraction": 0.2, "seed": 1}}""";
    private const string DigitsCompile = """{"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""";

    [Fact]
    public async Task Convert_KerasJson_AnswersNativeDefinitionSummaryAndNotes()
    {
        var response = await _factory.CreateClient().PostAsync("/api/models/convert", Specs.Json(Corpus("k2_224_standalone_recurrent.json")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("2.2.4", body.GetProperty("keras_version").GetString());
        Assert.Equal(364, body.GetProperty("summary").GetProperty("total_parameters").GetInt64());
        Assert.Equal("GRU", body.GetProperty("model").GetProperty("layers")[1].GetProperty("type").GetString());
        Assert.False(body.GetProperty("model").GetProperty("layers")[1].GetProperty("reset_after").GetBoolean());
        Assert.Contains(body.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("hard_sigmoid"));
        Assert.False(body.TryGetProperty("weights", out _));
    }

    [Fact]
    public async Task Convert_RefusesWhatCannotBeHonoured_WithKerasPaths()
    {
        var doc = """
            {"class_name": "Sequential", "keras_version": "2.4.0", "config": {"name": "s", "layers": [
              {"class_name": "Dense", "config": {"units": 4, "batch_input_shape": [32, 3]}},
              {"class_name": "ConvLSTM2D", "config": {"filters": 2}}]}}
            """;
        var response = await _factory.CreateClient().PostAsync("/api/models/convert", Specs.Json(doc));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        // The fixed batch size (32) is a hint, not an error; the unsupported layer is refused.
        Assert.Equal(["$.config.layers[1].class_name"], problem.ErrorKeys());
    }

    [Fact]
    public async Task Convert_RefusesANonKerasBody()
    {
        var response = await _factory.CreateClient().PostAsync("/api/models/convert", Specs.Json("""{"input_shape": [4], "layers": []}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["$"], (await response.JsonAsync()).ErrorKeys());
    }

    [Fact]
    public async Task Convert_KerasArchiveWhoseMetadataHoldsInvalidUtf8_Answers400NamingTheEntry()
    {
        // Found by the fuzz suite: JsonDocument parsed the text and failed only when the string was read (a 500).
        var archive = WithEntry(DenseArchive(out _), KerasArchive.MetadataEntry, [.. "{\"keras_version\": \"3"u8, 0x81, .. "\"}"u8]);
        using var form = new MultipartFormDataContent { { File(archive), "file", "model.keras" } };

        var response = await _factory.CreateClient().PostAsync("/api/models/convert", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal(["$:metadata.json"], problem.ErrorKeys());
        Assert.Contains("UTF-8", problem.GetProperty("errors").GetProperty("$:metadata.json")[0].GetString());
    }

    [Fact]
    public async Task Convert_KerasJsonBodyWithInvalidUtf8InAString_Answers400()
    {
        using var body = new ByteArrayContent([.. "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"m"u8, 0xc3, 0x28,
            .. "\", \"layers\": [{\"class_name\": \"Dense\", \"config\": {\"name\": \"d"u8, 0xc3, 0x28,
            .. "\", \"units\": 2, \"batch_input_shape\": [null, 3]}}]}}"u8]);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await _factory.CreateClient().PostAsync("/api/models/convert", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal(["$"], problem.ErrorKeys());
        Assert.Contains("UTF-8", problem.GetProperty("errors").GetProperty("$")[0].GetString());
    }

    [Fact]
    public async Task Convert_KerasArchive_ReportsItsWeights()
    {
        var archive = DenseArchive(out _);
        using var form = new MultipartFormDataContent { { File(archive), "file", "model.keras" } };

        var response = await _factory.CreateClient().PostAsync("/api/models/convert", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(4, body.GetProperty("weights").GetProperty("tensors").GetInt32());
        Assert.Equal(64 * 16 + 16 + 16 * 10 + 10, body.GetProperty("weights").GetProperty("parameters").GetInt64());
        Assert.Equal(1210, body.GetProperty("summary").GetProperty("total_parameters").GetInt64());
    }

    [Fact]
    public async Task KerasJsonRun_UsesTheFilesCompileSettings_Trains_AndExportsBackToTheSameDefinition()
    {
        var client = _factory.CreateClient();
        var doc = JsonNode.Parse(DigitsKeras2)!;
        doc["compile_config"] = JsonNode.Parse("""{"optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""");
        var spec = new JsonObject
        {
            ["name"] = "keras-digits", ["dataset"] = JsonNode.Parse(DigitsDataset), ["model"] = doc,
            ["fit"] = JsonNode.Parse("""{"epochs": 3, "batch_size": 32, "seed": 3}"""),
        };

        var submitted = await client.SubmitAsync(spec.ToJsonString());
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.True(run.GetProperty("metrics").GetProperty("accuracy").GetDouble() > 0.8, run.GetProperty("metrics").ToString());
        var stored = run.GetProperty("spec");
        Assert.Equal("Dense", stored.GetProperty("model").GetProperty("layers")[1].GetProperty("type").GetString());
        Assert.Equal("sparse_categorical_crossentropy", stored.GetProperty("compile").GetProperty("loss").GetString());
        Assert.Equal("json", stored.GetProperty("keras").GetProperty("source").GetString());

        var exported = await client.GetAsync($"/api/runs/{submitted.Id()}/keras");
        Assert.Equal(HttpStatusCode.OK, exported.StatusCode);
        var keras = await exported.JsonAsync();
        Assert.Equal("Sequential", keras.GetProperty("class_name").GetString());
        Assert.Equal("keras-digits", keras.GetProperty("config").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, keras.GetProperty("registered_name").ValueKind);

        var reconverted = await client.PostJsonAsync("/api/models/convert", keras.GetRawText());
        Assert.Equal(run.GetProperty("summary").GetRawText(), reconverted.GetProperty("summary").GetRawText());
        string Layers(JsonElement model) => string.Join(";", model.GetProperty("layers").EnumerateArray().Select(l =>
            $"{l.GetProperty("type")} {l.GetProperty("name")} {(l.TryGetProperty("units", out var u) ? u : default)} {(l.TryGetProperty("activation", out var a) ? a : default)}"));
        Assert.Equal(Layers(stored.GetProperty("model")), Layers(reconverted.GetProperty("model")));
    }

    [Fact]
    public async Task KerasJsonRun_WithARefusal_Answers400AtTheKerasPath_AndWritesNothing()
    {
        var doc = JsonNode.Parse(DigitsKeras2)!;
        doc["config"]!["layers"]![2]!["config"]!["dtype"] = "float64";
        var spec = new JsonObject { ["dataset"] = JsonNode.Parse(DigitsDataset), ["model"] = doc, ["compile"] = JsonNode.Parse(DigitsCompile) };

        var response = await _factory.CreateClient().PostAsync("/api/runs", Specs.Json(spec.ToJsonString()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["model.config.layers[2].config.dtype"], (await response.JsonAsync()).ErrorKeys());
        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    [Fact]
    public async Task KerasJsonRun_WhoseInputDoesNotFitTheDataset_IsRefusedAtItsInputLayer()
    {
        var doc = DigitsKeras2.Replace("\"batch_input_shape\": [null, 8, 8]", "\"batch_input_shape\": [null, 28, 28]");
        var spec = $$$"""{"dataset": {{{DigitsDataset}}}, "model": {{{doc}}}, "compile": {{{DigitsCompile}}}}""";

        var response = await _factory.CreateClient().PostAsync("/api/runs", Specs.Json(spec));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["model.config.layers[0].config"], (await response.JsonAsync()).ErrorKeys());
    }

    [Fact]
    public async Task KerasArchiveRun_WithZeroEpochs_ServesTheArchivesWeightsAsTheyAre()
    {
        var client = _factory.CreateClient();
        var archive = DenseArchive(out var expectedWeights);

        var submitted = await SubmitArchiveAsync(client, archive, """{"name": "imported", "dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 0}}""");
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(0, run.GetProperty("epochs_completed").GetInt32());
        Assert.True(run.GetProperty("spec").GetProperty("keras").GetProperty("initial_weights").GetBoolean());
        var final = await (await client.GetAsync($"/api/runs/{submitted.Id()}/weights")).Content.ReadAsByteArrayAsync();
        Assert.Equal(expectedWeights, final);

        // Predictions are the archive's model on the rescaled instances, computed here with the same weights.
        var prediction = await client.PostJsonAsync($"/api/runs/{submitted.Id()}/predict", Specs.DigitInstances);
        var probabilities = prediction.GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var import = KerasArchive.Import(archive);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), JsonDocument.Parse(DigitsCompile).RootElement, null);
        using var session = ModelSession.Restore(plan, import.Weights!);
        var instances = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances").EnumerateArray()
            .SelectMany(i => i.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => (float)(v.GetDouble() * 0.0625)))).ToArray();
        var expected = session.Predict([TorchSharp.torch.tensor(instances, [3, 8, 8])])[0].data<float>().ToArray();
        for (var n = 0; n < 3; n++)
        for (var k = 0; k < 10; k++)
            Assert.Equal(expected[n * 10 + k], probabilities[n][k], 4);
    }

    [Fact]
    public async Task KerasArchiveRun_FineTunesFromTheArchivesWeights()
    {
        var client = _factory.CreateClient();
        var submitted = await SubmitArchiveAsync(client, DenseArchive(out _), """{"dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 2, "seed": 1}}""");
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        await using var db = _factory.NewDbContext();
        Assert.True(await db.RunWeights.AnyAsync(w => w.RunId == submitted.Id() && w.Kind == WeightsKind.Initial));
        // The archive's weights are far from a solution (constant logits favour class 0): the first epoch starts there.
        var metrics = await (await client.GetAsync($"/api/runs/{submitted.Id()}/metrics")).JsonAsync();
        Assert.Equal(2, metrics.GetArrayLength());
    }

    [Fact]
    public async Task KerasArchiveRun_RefusesABrokenArchive_AndAModelInTheSpecToo()
    {
        var client = _factory.CreateClient();
        using var broken = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
            { File("not a zip"u8.ToArray()), "model", "model.keras" },
        };
        var response = await client.PostAsync("/api/runs", broken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["model"], (await response.JsonAsync()).ErrorKeys());

        using var both = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE, "model": {"input_shape": [64], "layers": [{"type": "Dense", "units": 10}]}}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
            { File(DenseArchive(out _)), "model", "model.keras" },
        };
        response = await client.PostAsync("/api/runs", both);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["model"], (await response.JsonAsync()).ErrorKeys());
        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    [Fact]
    public async Task KerasArchiveRun_WhoseWeightsHoldASoftLinkNamingItself_IsRefused_AndTheServiceStaysUp()
    {
        // Without the HDF5 guard, PureHDF follows the link until the stack overflows and the test host dies with it.
        var client = _factory.CreateClient();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
            { File(SelfLinkedArchive()), "model", "model.keras" },
        };

        var response = await client.PostAsync("/api/runs", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal([$"model:{KerasArchive.WeightsEntry}"], problem.ErrorKeys());
        Assert.Contains("soft link /layers/dense/vars/1", problem.ToString());
        Assert.Equal((0, 0, 0), _factory.CountRows());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Export_Answers404_ForAnUnknownRun()
    {
        var response = await _factory.CreateClient().GetAsync($"/api/runs/{Guid.NewGuid()}/keras");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Convert_TfjsModelJsonWithItsShards_ReportsItsWeights()
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, content) in TfjsFiles(DenseArchive(out _)))
            form.Add(File(content), "file", name);

        var response = await _factory.CreateClient().PostAsync("/api/models/convert", form);

        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal(4, body.GetProperty("weights").GetProperty("tensors").GetInt32());
        Assert.Equal(1210, body.GetProperty("weights").GetProperty("parameters").GetInt64());
    }

    [Fact]
    public async Task TfjsZipRun_WithZeroEpochs_ServesTheFilesWeights()
    {
        var client = _factory.CreateClient();
        var archive = DenseArchive(out var expectedWeights);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 0}}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
            { File(TfjsZip(archive)), "model", "model.zip" },
        };
        var response = await client.PostAsync("/api/runs", form);
        var submitted = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, submitted.ToString());
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal("tfjs", run.GetProperty("spec").GetProperty("keras").GetProperty("source").GetString());
        var final = await (await client.GetAsync($"/api/runs/{submitted.Id()}/weights")).Content.ReadAsByteArrayAsync();
        Assert.Equal(expectedWeights, final);
    }

    [Fact]
    public async Task TfjsModelJsonAndShards_PostedAsTheRunsModel_WithZeroEpochs_ServeTheFilesWeights()
    {
        var client = _factory.CreateClient();
        var archive = DenseArchive(out var expectedWeights);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 0}}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
        };
        foreach (var (name, content) in TwoShards(TfjsFiles(archive))) form.Add(File(content), "model", name);

        var response = await client.PostAsync("/api/runs", form);
        var submitted = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, submitted.ToString());
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal("tfjs", run.GetProperty("spec").GetProperty("keras").GetProperty("source").GetString());
        Assert.True(run.GetProperty("spec").GetProperty("keras").GetProperty("initial_weights").GetBoolean());
        var final = await (await client.GetAsync($"/api/runs/{submitted.Id()}/weights")).Content.ReadAsByteArrayAsync();
        Assert.Equal(expectedWeights, final);
    }

    [Fact]
    public async Task TfjsModelJsonAndShards_PostedAsTheRunsModel_AreTheStartingPointOfTraining()
    {
        var client = _factory.CreateClient();
        var archive = DenseArchive(out var expectedWeights);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 1, "seed": 1}}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
        };
        foreach (var (name, content) in TwoShards(TfjsFiles(archive))) form.Add(File(content), "model", name);

        var response = await client.PostAsync("/api/runs", form);
        var submitted = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, submitted.ToString());
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(1, run.GetProperty("epochs_completed").GetInt32());
        await using var db = _factory.NewDbContext();
        var initial = await db.RunWeights.SingleAsync(w => w.RunId == submitted.Id() && w.Kind == WeightsKind.Initial);
        Assert.Equal(expectedWeights, initial.Data);
        var final = await (await client.GetAsync($"/api/runs/{submitted.Id()}/weights")).Content.ReadAsByteArrayAsync();
        Assert.NotEqual(expectedWeights, final);   // trained from there
    }

    [Fact]
    public async Task WeightsH5_WithTheArchitectureField_IsTheRunsModel_ServingTheFilesWeights()
    {
        var client = _factory.CreateClient();
        var archive = DenseArchive(out var expectedWeights);
        var (architecture, weightsH5) = ArchiveParts(archive);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 0}}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
            { File(weightsH5), "model", "model.weights.h5" },
            { new StringContent(architecture), "architecture" },
        };

        var response = await client.PostAsync("/api/runs", form);
        var submitted = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, submitted.ToString());
        var run = await client.WaitForEndAsync(submitted.Id(), Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(".weights.h5", run.GetProperty("spec").GetProperty("keras").GetProperty("source").GetString());
        Assert.Equal("Dense", run.GetProperty("spec").GetProperty("model").GetProperty("layers")[1].GetProperty("type").GetString());
        var final = await (await client.GetAsync($"/api/runs/{submitted.Id()}/weights")).Content.ReadAsByteArrayAsync();
        Assert.Equal(expectedWeights, final);
    }

    [Fact]
    public async Task WeightsH5_WithoutTheArchitectureField_OrWithOneItDoesNotFit_Answers400_AndWritesNothing()
    {
        var client = _factory.CreateClient();
        var (architecture, weightsH5) = ArchiveParts(DenseArchive(out _));
        var spec = """{"dataset": DATASET, "compile": COMPILE, "fit": {"epochs": 0}}""".Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile);

        using var bare = new MultipartFormDataContent { { new StringContent(spec), "spec" }, { File(weightsH5), "model", "model.weights.h5" } };
        var response = await client.PostAsync("/api/runs", bare);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal(["model"], problem.ErrorKeys());
        Assert.Contains("architecture", problem.ToString());

        // The same file beside an architecture whose first Dense has 12 units: refused at that layer of the architecture.
        var other = JsonNode.Parse(architecture)!;
        other["config"]!["layers"]![2]!["config"]!["units"] = 12;
        using var mismatched = new MultipartFormDataContent
        {
            { new StringContent(spec), "spec" }, { File(weightsH5), "model", "model.weights.h5" }, { new StringContent(other.ToJsonString()), "architecture" },
        };
        response = await client.PostAsync("/api/runs", mismatched);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("architecture.config.layers[2]", (await response.JsonAsync()).ErrorKeys());
        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    /// <summary>A .keras archive's config.json (Keras 3 to_json()) and its model.weights.h5, which is what Keras 3's
    /// <c>save_weights("m.weights.h5")</c> writes.</summary>
    private static (string Architecture, byte[] WeightsH5) ArchiveParts(byte[] archive)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(archive));
        byte[] Read(string name)
        {
            using var s = zip.GetEntry(name)!.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        }
        return (Encoding.UTF8.GetString(Read(KerasArchive.ConfigEntry)), Read(KerasArchive.WeightsEntry));
    }

    /// <summary>The files with the weights split over two shards (the second starting inside a weight), model.json's
    /// manifest naming both, as the converter splits large models.</summary>
    private static IEnumerable<(string Name, byte[] Content)> TwoShards(IEnumerable<(string Name, byte[] Content)> files)
    {
        var list = files.ToList();
        var json = JsonNode.Parse(list.Single(f => f.Name == "model.json").Content)!;
        var shard = list.Single(f => f.Name != "model.json").Content;
        json["weightsManifest"]![0]!["paths"] = new JsonArray("group1-shard1of2.bin", "group1-shard2of2.bin");
        yield return ("model.json", Encoding.UTF8.GetBytes(json.ToJsonString()));
        yield return ("group1-shard1of2.bin", shard[..1030]);
        yield return ("group1-shard2of2.bin", shard[1030..]);
    }

    /// <summary>The archive's model exported by the service's own TF.js writer (a zip of model.json and shards).</summary>
    private static byte[] TfjsZip(byte[] archive)
    {
        var import = KerasArchive.Import(archive);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), JsonDocument.Parse("""{"loss": "mse"}""").RootElement, null);
        using var session = ModelSession.Restore(plan, import.Weights!);
        using var ms = new MemoryStream(session.SaveWeights());
        var state = TensorArchive.Read(ms);
        return TfjsExporter.Export(plan.Model, state, "digits_mlp");
    }

    private static IEnumerable<(string Name, byte[] Content)> TfjsFiles(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(TfjsZip(archive)));
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            yield return (entry.Name, ms.ToArray());
        }
    }

    private static async Task<JsonElement> SubmitArchiveAsync(HttpClient client, byte[] archive, string spec)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(spec.Replace("DATASET", DigitsDataset).Replace("COMPILE", DigitsCompile)), "spec" },
            { File(archive), "model", "model.keras" },
        };
        var response = await client.PostAsync("/api/runs", form);
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToString());
        return body;
    }

    private static ByteArrayContent File(byte[] content)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return file;
    }

    /// <summary>A .keras archive of the digits MLP (Keras 3 config, Keras-layout weights) and the engine weights it
    /// must import to.</summary>
    private static byte[] DenseArchive(out byte[] engineWeights)
    {
        float[] Values(int n, int seed) => Enumerable.Range(0, n).Select(i => (float)(0.3 * Math.Sin(1.3 * i + seed))).ToArray();
        var config = KerasExporter.Export(TrainingPlan.Parse(JsonDocument.Parse("""
            {"input_shape": [8, 8], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 16, "activation": "relu"},
                                                {"type": "Dense", "units": 10, "activation": "softmax"}]}
            """).RootElement, JsonDocument.Parse("""{"loss": "mse"}""").RootElement, null).Model, "digits_mlp");
        var archive = KerasArchive.Create(config, new Dictionary<string, (float[], long[])>
        {
            ["layers/dense/vars/0"] = (Values(64 * 16, 1), [64, 16]), ["layers/dense/vars/1"] = (Values(16, 2), [16]),
            ["layers/dense_1/vars/0"] = (Values(16 * 10, 3), [16, 10]), ["layers/dense_1/vars/1"] = (Values(10, 4), [10]),
        });
        engineWeights = KerasArchive.Import(archive).Weights!;
        return archive;
    }
    /// <summary><paramref name="archive"/> with one entry's bytes replaced.</summary>
    private static byte[] WithEntry(byte[] archive, string name, byte[] content)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(new MemoryStream(archive)))
        using (var copy = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in zip.Entries)
            {
                using var target = copy.CreateEntry(entry.FullName).Open();
                if (entry.FullName == name) target.Write(content);
                else
                {
                    using var source = entry.Open();
                    source.CopyTo(target);
                }
            }
        }
        return output.ToArray();
    }

    /// <summary><see cref="DenseArchive"/> whose weights file links <c>layers/dense/vars/1</c> to itself (a soft link).</summary>
    private static byte[] SelfLinkedArchive()
    {
        var vars = new H5Group { ["0"] = new H5Dataset(new float[64 * 16], fileDims: [64, 16]), ["1"] = new H5SoftLink("/layers/dense/vars/1") };
        var h5 = new H5File { ["layers"] = new H5Group { ["dense"] = new H5Group { ["vars"] = vars } } };
        using var weights = new MemoryStream();
        h5.Write(weights);
        return WithEntry(DenseArchive(out _), KerasArchive.WeightsEntry, weights.ToArray());
    }
}

/// <summary>Every test of <see cref="KerasApiTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class KerasApiTestsOnPostgres(PostgresServer postgres) : KerasApiTests(postgres);
