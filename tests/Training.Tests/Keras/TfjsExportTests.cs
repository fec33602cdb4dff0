using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// The TF.js export loaded by the real consumer: <c>@tensorflow/tfjs</c> 4.22.0 under Node.js
/// (<c>tests/tfjs/predict.js</c>, <c>tf.loadLayersModel(tf.io.fromMemory(…))</c>) predicts what the engine predicts
/// within 1e-5. The npm package is installed by <c>.ci/run</c> (<c>npm ci --prefix tests/tfjs</c>), or by the first
/// test here when missing. Without node these tests fail on CI (<c>CI</c> set) and are skipped loudly elsewhere.
/// </summary>
public class TfjsExportTests(ITestOutputHelper output)
{
    private static readonly Lazy<string?> Setup = new(Prepare);

    [Theory]
    [InlineData(ExportModels.Mlp)]
    [InlineData(ExportModels.Cnn)]
    [InlineData(ExportModels.Lstm)]
    [InlineData(ExportModels.GruResetBefore)]
    [InlineData(ExportModels.DepthwiseSeparable2D)]
    [InlineData(ExportModels.Conv3D)]
    [InlineData(ExportModels.Augmented)]
    [InlineData(ExportModels.Normalized)]
    public void TfjsExport_LoadsInTensorFlowJs_AndPredictsWhatTheEnginePredicts(string model)
    {
        var folder = Setup.Value;
        if (folder is null)
        {
            output.WriteLine("SKIPPED: node is not installed, so the TF.js export was NOT checked with @tensorflow/tfjs (apt-get install nodejs npm).");
            return;
        }
        var (plan, session) = ExportModels.Build(model);
        using var _ = session;
        var zip = TfjsExporter.Export(plan.Model, ExportModels.State(session), "m", new JsonObject { ["classes"] = new JsonArray("a", "b") });
        var x = ExportModels.Input(plan);
        var expected = ExportModels.Predict(session, x);

        var dir = Directory.CreateTempSubdirectory("tfjs-export-");
        try
        {
            ZipFile.ExtractToDirectory(new MemoryStream(zip), dir.FullName);
            var document = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.FullName, "model.json")))!;
            Assert.Equal("layers-model", document["format"]!.GetValue<string>());
            Assert.Equal("a", document["userDefinedMetadata"]!["training_service"]!["classes"]![0]!.GetValue<string>());
            File.WriteAllText(Path.Combine(dir.FullName, "input.json"), JsonSerializer.Serialize(new
            {
                shape = x.Shape, dtype = x.Integer ? "int32" : "float32", data = x.Data,
            }));
            var (code, log) = Run("node", [Path.Combine(folder, "predict.js"), dir.FullName], folder);
            Assert.True(code == 0, $"node predict.js failed ({code}):\n{log}");
            var result = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.FullName, "output.json")))!;
            var actual = result["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void TfjsExport_RefusesGruWithResetAfter_WhichTensorFlowJsLacks()
    {
        var (plan, session) = ExportModels.Build(ExportModels.Gru);
        using var _ = session;
        var e = Assert.Throws<SpecException>(() => TfjsExporter.Export(plan.Model, ExportModels.State(session), "m"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[0]", error.Path);
        Assert.Contains("reset_after", error.Message);
    }

    [Theory]
    [InlineData(ExportModels.ConvFamily1D, "model.layers[1]", "no DepthwiseConv1D")]
    [InlineData(ExportModels.ConvFamily2D, "model.layers[0]", "groups")]
    [InlineData(ExportModels.Resized, "model.layers[0]", "CenterCrop")]
    [InlineData(ExportModels.Resized, "model.layers[1]", "aligns corners")]
    public void TfjsExport_RefusesWhatTensorFlowJsLacks_NamingTheLayer(string model, string path, string reason)
    {
        var (plan, session) = ExportModels.Build(model);
        using var _ = session;
        var e = Assert.Throws<SpecException>(() => TfjsExporter.Export(plan.Model, ExportModels.State(session), "m"));
        Assert.Contains(e.Errors, x => x.Path == path && x.Message.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void TfjsExport_WritesNormalizationAsTheEquivalentBatchNormalization_WhichOurImporterReadsBack()
    {
        var (plan, session) = ExportModels.Build(ExportModels.Normalized);
        using var _ = session;
        var zip = TfjsExporter.Export(plan.Model, ExportModels.State(session), "m");
        using (var archive = new ZipArchive(new MemoryStream(zip)))
        {
            using var s = archive.GetEntry("model.json")!.Open();
            var document = JsonNode.Parse(s)!;
            var layers = document["modelTopology"]!["config"]!["layers"]!.AsArray();
            Assert.DoesNotContain(layers, l => l!["class_name"]!.GetValue<string>() == "Normalization");
            Assert.Equal(4, layers.Count(l => l!["class_name"]!.GetValue<string>() == "BatchNormalization"));
            Assert.Equal(4, document["userDefinedMetadata"]!["training_service"]!["normalization_as_batch_normalization"]!.AsArray().Count);
        }
        var import = TfjsImporter.ImportZip(zip);
        var plan2 = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}"""), null);
        using var session2 = ModelSession.Restore(plan2, import.Weights!);
        var x = ExportModels.Input(plan);
        var expected = ExportModels.Predict(session, x);
        var actual = ExportModels.Predict(session2, x);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public void TfjsExport_RefusesANormalizationOverSeveralAxes_WhichNoBatchNormalizationComputes()
    {
        var (plan, session) = ExportModels.Build("""
            {"input_shape": [3, 4], "layers": [{"type": "Normalization", "axis": [1, 2]}, {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
            """);
        using var _ = session;
        var e = Assert.Throws<SpecException>(() => TfjsExporter.Export(plan.Model, ExportModels.State(session), "m"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[0]", error.Path);
        Assert.Contains("several axes", error.Message);
    }

    [Fact]
    public void Keras2Form_RewritesFunctionalNodesAndInputLayers_AsTensorFlowJsReadsThem()
    {
        var plan = SpecFiles.Plan("""
            {"inputs": [{"name": "a", "shape": [3]}, {"name": "b", "shape": [3]}],
             "layers": [{"type": "Add", "name": "sum", "inputs": ["a", "b"]}, {"type": "Dense", "name": "out", "units": 1, "inputs": ["sum"]}],
             "outputs": ["out"]}
            """, """{"optimizer": "sgd", "loss": "mse"}""");
        var topology = TfjsExporter.Keras2Form(KerasExporter.Export(plan.Model));
        Assert.Equal("Model", topology["class_name"]!.GetValue<string>());
        var layers = topology["config"]!["layers"]!.AsArray();
        Assert.Equal("[null,3]", layers[0]!["config"]!["batch_input_shape"]!.ToJsonString());
        Assert.Equal("float32", layers[0]!["config"]!["dtype"]!.GetValue<string>());
        Assert.Equal("""[[["a",0,0,{}],["b",0,0,{}]]]""", layers[2]!["inbound_nodes"]!.ToJsonString());
        Assert.Equal("""[["out",0,0]]""", topology["config"]!["output_layers"]!.ToJsonString());
        Assert.Null(layers[3]!["config"]!["kernel_regularizer"]);
        Assert.DoesNotContain("\"module\"", topology.ToJsonString());
    }

    /// <summary>The tests/tfjs folder with @tensorflow/tfjs installed, or null when node is missing (a failure on CI).</summary>
    private static string? Prepare()
    {
        var folder = Path.Combine(SpecFiles.RepoRoot, "tests", "tfjs");
        if (Run("node", ["--version"], folder).Code != 0)
        {
            if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 })
                throw new InvalidOperationException("node is not installed on CI: .ci/run must install nodejs and run npm ci --prefix tests/tfjs");
            return null;
        }
        if (!File.Exists(Path.Combine(folder, "node_modules", "@tensorflow", "tfjs", "package.json")))
        {
            var (code, log) = Run("npm", ["ci", "--no-audit", "--no-fund"], folder);
            if (code != 0) throw new InvalidOperationException($"npm ci in {folder} failed:\n{log}");
        }
        return folder;
    }

    private static (int Code, string Log) Run(string file, string[] args, string directory)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
