using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// Files holding an adapted Normalization, built here as each writer lays them out: Keras 3's <c>.keras</c> and
/// <c>.weights.h5</c> (<c>layers/normalization/vars/0..2</c>: mean, variance, then the integer count as an int64 scalar),
/// tf-keras's legacy HDF5 (<c>weight_names</c> <c>normalization/mean:0</c>, <c>variance:0</c>, <c>count:0</c>) and the
/// TF.js converter's manifest (count as int32). Each predicts Normalization → Dense(2) computed here by hand, with one
/// feature's variance below ε² so Keras's <c>max(√variance, 1e-7)</c> is what divides.
/// </summary>
public class NormalizationWeightsImportTests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    private static readonly float[] Mean = [0.5f, -1f, 0f], Variance = [4f, 0.25f, 1e-16f], Kernel = [0.3f, -0.7f, 1.1f, 0.4f, -0.2f, 0.9f], Bias = [0.05f, -0.1f];

    /// <summary>Three examples; the third feature stays near its mean, where the ε floor decides the scale.</summary>
    private static readonly float[] X = [1.5f, 0.2f, 3e-7f, -0.5f, -1.4f, -1e-7f, 2.5f, -0.6f, 5e-7f];

    private static float[] HandComputed(float[] mean, float[] variance)
    {
        var y = new float[6];
        for (var s = 0; s < 3; s++)
            for (var o = 0; o < 2; o++)
            {
                double z = Bias[o];
                for (var j = 0; j < 3; j++) z += (X[s * 3 + j] - mean[j]) / Math.Max(Math.Sqrt(variance[j]), 1e-7) * Kernel[j * 2 + o];
                y[s * 2 + o] = (float)z;
            }
        return y;
    }

    private static void AssertPredicts(KerasArchiveImport import, float[] mean, float[] variance)
    {
        Assert.NotNull(import.Weights);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), Mse, null);
        using var session = ModelSession.Restore(plan, import.Weights!);
        var predicted = session.Predict([tensor(X, [3, 3])])[0].data<float>().ToArray();
        var expected = HandComputed(mean, variance);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - predicted[i]) < 1e-5, $"[{i}] expected {expected[i]}, got {predicted[i]}");
    }

    /// <summary>Keras 3's to_json(): Normalization's get_config writes the axis as a tuple and mean/variance as null when adapted.</summary>
    private static string Keras3Config(string statistics = "\"mean\": null, \"variance\": null") => $$$"""
        {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": true, "dtype": "float32", "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null},
          {"module": "keras.layers", "class_name": "Normalization", "config": {"name": "normalization", "trainable": true, "dtype": "float32", "axis": [-1], "invert": false, {{{statistics}}}},
           "registered_name": null, "build_config": {"input_shape": [null, 3]}},
          {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": true},
           "registered_name": null, "build_config": {"input_shape": [null, 3]}}]}, "registered_name": null}
        """;

    /// <summary>saving_lib's layout; <paramref name="adapted"/> false leaves Normalization's vars group empty, as Keras 3
    /// saves a layer whose statistics came from its config.</summary>
    private static byte[] Keras3WeightsH5(bool adapted = true)
    {
        var file = new H5File();
        var normalization = new H5Group();
        if (adapted)
        {
            normalization["0"] = new H5Dataset(Mean, fileDims: [3]);
            normalization["1"] = new H5Dataset(Variance, fileDims: [3]);
            normalization["2"] = new H5Dataset(0L);   // dtype "int" is int64 under TensorFlow; Keras 3's adapt leaves it 0
        }
        var dense = new H5Group { ["0"] = new H5Dataset(Kernel, fileDims: [3, 2]), ["1"] = new H5Dataset(Bias, fileDims: [2]) };
        file["layers"] = new H5Group
        {
            ["input_layer"] = new H5Group { ["vars"] = new H5Group() },
            ["normalization"] = new H5Group { ["vars"] = normalization },
            ["dense"] = new H5Group { ["vars"] = dense },
        };
        file["vars"] = new H5Group();
        return Write(file);
    }

    private static byte[] Write(H5File file)
    {
        using var ms = new MemoryStream();
        file.Write(ms);
        return ms.ToArray();
    }

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(content);
            }
        return ms.ToArray();
    }

    [Fact]
    public void KerasArchive_WithAnAdaptedNormalization_LoadsMeanVarianceAndCount_AndPredictsByHand()
    {
        var archive = Zip(("config.json", Encoding.UTF8.GetBytes(Keras3Config())),
            ("metadata.json", """{"keras_version": "3.11.3", "date_saved": "2026-12-03@09:00:00"}"""u8.ToArray()),
            ("model.weights.h5", Keras3WeightsH5()));
        AssertPredicts(KerasArchive.Import(archive), Mean, Variance);
    }

    [Fact]
    public void Keras3WeightsH5_WithAnAdaptedNormalization_LoadsBesideItsArchitecture() =>
        AssertPredicts(KerasHdf5.ImportWeights(Keras3WeightsH5(), SpecFiles.Json(Keras3Config())), Mean, Variance);

    [Fact]
    public void KerasArchive_NormalizationWithStatisticsInItsConfig_HasNoVariables_AndUsesTheConfig()
    {
        var archive = Zip(("config.json", Encoding.UTF8.GetBytes(Keras3Config("\"mean\": [1.0, 2.0, -3.0], \"variance\": [0.25, 9.0, 1.0]"))),
            ("model.weights.h5", Keras3WeightsH5(adapted: false)));
        AssertPredicts(KerasArchive.Import(archive), [1f, 2f, -3f], [0.25f, 9f, 1f]);
    }

    [Fact]
    public void KerasArchive_NormalizationWithConfigStatistics_ButVariablesInTheFile_IsRefusedAtTheLayer()
    {
        var archive = Zip(("config.json", Encoding.UTF8.GetBytes(Keras3Config("\"mean\": [1.0, 2.0, -3.0], \"variance\": [0.25, 9.0, 1.0]"))),
            ("model.weights.h5", Keras3WeightsH5(adapted: true)));
        var e = Assert.Throws<Specs.SpecException>(() => KerasArchive.Import(archive));
        Assert.Contains(e.Errors, x => x.Path.EndsWith("layers[1]", StringComparison.Ordinal) && x.Message.Contains("holds 3 variable(s); this layer has 0", StringComparison.Ordinal));
    }

    /// <summary>tf-keras's model.save("m.h5"): the Keras 2 config, and model_weights/normalization listing
    /// normalization/mean:0, variance:0 and count:0 (tf.int64, a scalar) in creation order.</summary>
    [Fact]
    public void LegacyHdf5_FromTfKeras_WithAnAdaptedNormalization_LoadsAndPredictsByHand()
    {
        const string config = """
            {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "normalization_input"}},
              {"class_name": "Normalization", "config": {"name": "normalization", "trainable": true, "dtype": "float32", "axis": [-1], "invert": false, "mean": null, "variance": null}},
              {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": true}}]}}
            """;
        var file = new H5File { Attributes = { ["model_config"] = config, ["keras_version"] = "2.15.0", ["backend"] = "tensorflow" } };
        var weights = new H5Group { Attributes = { ["layer_names"] = new[] { "normalization", "dense" }, ["keras_version"] = "2.15.0", ["backend"] = "tensorflow" } };
        weights["normalization"] = new H5Group
        {
            Attributes = { ["weight_names"] = new[] { "normalization/mean:0", "normalization/variance:0", "normalization/count:0" } },
            ["normalization"] = new H5Group
            {
                ["mean:0"] = new H5Dataset(Mean, fileDims: [3]), ["variance:0"] = new H5Dataset(Variance, fileDims: [3]), ["count:0"] = new H5Dataset(1000L),
            },
        };
        weights["dense"] = new H5Group
        {
            Attributes = { ["weight_names"] = new[] { "dense/kernel:0", "dense/bias:0" } },
            ["dense"] = new H5Group { ["kernel:0"] = new H5Dataset(Kernel, fileDims: [3, 2]), ["bias:0"] = new H5Dataset(Bias, fileDims: [2]) },
        };
        file["model_weights"] = weights;
        AssertPredicts(KerasHdf5.Import(Write(file)), Mean, Variance);
    }

    /// <summary>The TF.js converter's output for that model: weight names from the HDF5 weight_names without ":0",
    /// the int64 count written as int32.</summary>
    [Fact]
    public void TfjsManifest_WithNormalizationsInt32Count_LoadsAndPredictsByHand() =>
        AssertPredicts(Tfjs(adapted: true), Mean, Variance);

    /// <summary>Statistics in the config: no Normalization weights in the manifest at all.</summary>
    [Fact]
    public void TfjsManifest_NormalizationWithStatisticsInItsConfig_HasNoWeights_AndUsesTheConfig() =>
        AssertPredicts(Tfjs(adapted: false), [1f, 2f, -3f], [0.25f, 9f, 1f]);

    private static KerasArchiveImport Tfjs(bool adapted)
    {
        var bytes = new List<byte>();
        var specs = new JsonArray();
        JsonObject Spec(string name, long[] shape, string dtype = "float32") =>
            new() { ["name"] = name, ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()), ["dtype"] = dtype };
        if (adapted)
        {
            foreach (var v in Mean.Concat(Variance)) bytes.AddRange(BitConverter.GetBytes(v));
            bytes.AddRange(BitConverter.GetBytes(1000));
            specs.Add(Spec("normalization/mean", [3]));
            specs.Add(Spec("normalization/variance", [3]));
            specs.Add(Spec("normalization/count", [], "int32"));
        }
        foreach (var v in Kernel.Concat(Bias)) bytes.AddRange(BitConverter.GetBytes(v));
        specs.Add(Spec("dense/kernel", [3, 2]));
        specs.Add(Spec("dense/bias", [2]));
        var statistics = adapted ? "\"mean\": null, \"variance\": null" : "\"mean\": [1.0, 2.0, -3.0], \"variance\": [0.25, 9.0, 1.0]";
        var document = new JsonObject
        {
            ["format"] = "layers-model",
            ["generatedBy"] = "keras v2.15.0",
            ["convertedBy"] = "TensorFlow.js Converter v4.22.0",
            ["modelTopology"] = new JsonObject
            {
                ["keras_version"] = "2.15.0", ["backend"] = "tensorflow",
                ["model_config"] = JsonNode.Parse($$$"""
                    {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
                      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32", "name": "normalization_input"}},
                      {"class_name": "Normalization", "config": {"name": "normalization", "axis": [-1], "invert": false, {{{statistics}}}}},
                      {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "linear", "use_bias": true}}]}}
                    """),
            },
            ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = new JsonArray("group1-shard1of1.bin"), ["weights"] = specs }),
        };
        return TfjsImporter.Import(Encoding.UTF8.GetBytes(document.ToJsonString()), new Dictionary<string, byte[]> { ["group1-shard1of1.bin"] = bytes.ToArray() });
    }
}
