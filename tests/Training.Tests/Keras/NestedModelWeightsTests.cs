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
/// Weights of a model used as a layer, in the name-keyed formats, laid out as their writers lay them out. tf-keras's
/// <c>save_weights_to_hdf5_group</c> gives the nested model one group, <c>model_weights/backbone</c>, whose
/// <c>weight_names</c> are <c>_legacy_weights(backbone)</c>: every trainable weight of its layers first, then every
/// non-trainable one, so BatchNormalization's moving statistics come after the next Dense's kernel; the names carry
/// the scope (<c>backbone/dense/kernel:0</c>, or <c>dense/kernel:0</c> for a nested model built on its own). The TF.js
/// converter copies those names without <c>:0</c> into the manifest, in the same order. Each file predicts
/// x → Dense(3, relu) → BatchNormalization → Dense(2, tanh) → head Dense(1), computed here by hand.
/// </summary>
public class NestedModelWeightsTests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    private static float[] Values(int n, int seed) => Enumerable.Range(0, n).Select(i => (float)(0.6 * Math.Sin(2.3 * i + seed))).ToArray();

    private static readonly float[] K1 = Values(4 * 3, 1), B1 = Values(3, 2), Gamma = Values(3, 3), Beta = Values(3, 4), Mean = Values(3, 5),
        Var = Values(3, 6).Select(v => v + 1).ToArray(), K2 = Values(3 * 2, 7), B2 = Values(2, 8), K3 = Values(2, 9), B3 = [0.25f];

    /// <summary>The backbone's weights in <c>_legacy_weights</c> order (trainable, then non-trainable) and the head's.</summary>
    private static readonly (string Layer, string Name, float[] Data, long[] Shape)[] Backbone =
    [
        ("dense", "kernel", K1, [4, 3]), ("dense", "bias", B1, [3]),
        ("batch_normalization", "gamma", Gamma, [3]), ("batch_normalization", "beta", Beta, [3]),
        ("dense_1", "kernel", K2, [3, 2]), ("dense_1", "bias", B2, [2]),
        ("batch_normalization", "moving_mean", Mean, [3]), ("batch_normalization", "moving_variance", Var, [3]),
    ];

    private const string ModelConfig = """
        {"class_name": "Sequential", "config": {"name": "outer", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "input_1"}},
          {"class_name": "Sequential", "config": {"name": "backbone", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "backbone_input"}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "relu", "use_bias": true}},
            {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "axis": [1], "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}},
            {"class_name": "Dense", "config": {"name": "dense_1", "units": 2, "activation": "tanh", "use_bias": true}}]}},
          {"class_name": "Dense", "config": {"name": "head", "units": 1, "activation": "linear", "use_bias": true}}]}}
        """;

    private static readonly float[] X = Values(5 * 4, 10);

    private static float[] HandComputed()
    {
        var y = new float[5];
        for (var s = 0; s < 5; s++)
        {
            var h = new double[3];
            for (var j = 0; j < 3; j++)
            {
                double z = B1[j];
                for (var i = 0; i < 4; i++) z += X[s * 4 + i] * K1[i * 3 + j];
                h[j] = (Math.Max(0, z) - Mean[j]) / Math.Sqrt(Var[j] + 0.001) * Gamma[j] + Beta[j];
            }
            var g = new double[2];
            for (var o = 0; o < 2; o++)
            {
                double z = B2[o];
                for (var j = 0; j < 3; j++) z += h[j] * K2[j * 2 + o];
                g[o] = Math.Tanh(z);
            }
            y[s] = (float)(B3[0] + g[0] * K3[0] + g[1] * K3[1]);
        }
        return y;
    }

    private static void AssertPredictsByHand(KerasArchiveImport import)
    {
        Assert.NotNull(import.Weights);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), Mse, null);
        using var session = ModelSession.Restore(plan, import.Weights!);
        var predicted = session.Predict([tensor(X, [5, 4])])[0].data<float>().ToArray();
        var expected = HandComputed();
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - predicted[i]) < 1e-5, $"[{i}] expected {expected[i]}, got {predicted[i]}");
    }

    private static byte[] Write(H5File file)
    {
        using var ms = new MemoryStream();
        file.Write(ms);
        return ms.ToArray();
    }

    /// <summary>A layer group as <c>save_subset_weights_to_hdf5_group</c> writes it: <c>weight_names</c>, and each
    /// dataset at its name (h5py makes the slashes groups).</summary>
    private static H5Group LayerGroup(IEnumerable<(string Name, float[] Data, long[] Shape)> weights)
    {
        var group = new H5Group();
        var list = weights.ToList();
        group.Attributes["weight_names"] = list.Select(w => w.Name).ToArray();
        foreach (var (name, data, shape) in list)
        {
            var parts = name.Split('/');
            var at = group;
            foreach (var part in parts[..^1])
            {
                if (!at.TryGetValue(part, out var child)) at[part] = child = new H5Group();
                at = (H5Group)child;
            }
            at[parts[^1]] = new H5Dataset(data, fileDims: shape.Select(d => (ulong)d).ToArray());
        }
        return group;
    }

    private static byte[] LegacyFile(Func<string, string, string> backboneName, string config = ModelConfig, (string, string, float[], long[])[]? backbone = null)
    {
        var file = new H5File { Attributes = { ["model_config"] = config, ["keras_version"] = "2.15.0", ["backend"] = "tensorflow" } };
        var weights = new H5Group { Attributes = { ["layer_names"] = new[] { "backbone", "head" }, ["keras_version"] = "2.15.0", ["backend"] = "tensorflow" } };
        weights["backbone"] = LayerGroup((backbone ?? Backbone).Select(w => (backboneName(w.Item1, w.Item2), w.Item3, w.Item4)));
        weights["head"] = LayerGroup([("head/kernel:0", K3, [2, 1]), ("head/bias:0", B3, [1])]);
        file["model_weights"] = weights;
        return Write(file);
    }

    [Fact]
    public void LegacyHdf5_NestedModel_WeightsNamedWithItsScope_LandInTheirLayers_ThoughTrainableOnesComeFirst() =>
        AssertPredictsByHand(KerasHdf5.Import(LegacyFile((layer, name) => $"backbone/{layer}/{name}:0")));

    [Fact]
    public void LegacyHdf5_NestedModelBuiltOnItsOwn_WeightsNamedByLayerOnly_LandInTheirLayers() =>
        AssertPredictsByHand(KerasHdf5.Import(LegacyFile((layer, name) => $"{layer}/{name}:0")));

    [Fact]
    public void LegacyHdf5_NestedModel_AsKeras3sLegacyWriterNamesThem_ByVariablePath() =>
        AssertPredictsByHand(KerasHdf5.Import(LegacyFile((layer, name) => $"backbone/{layer}/{name}")));

    /// <summary>Two models inside the nested one, each with a layer named "dense": the scope's model names decide, whatever
    /// the order in the file (here b's weights first).</summary>
    [Fact]
    public void LegacyHdf5_TwoInnerModelsWithLayersOfTheSameName_AreToldApartByTheirModelNames()
    {
        const string config = """
            {"class_name": "Sequential", "config": {"name": "outer", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "input_1"}},
              {"class_name": "Sequential", "config": {"name": "backbone", "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "backbone_input"}},
                {"class_name": "Sequential", "config": {"name": "a", "layers": [
                  {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "relu", "use_bias": true}},
                  {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "axis": [1], "epsilon": 0.001}}]}},
                {"class_name": "Sequential", "config": {"name": "b", "layers": [
                  {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "tanh", "use_bias": true}}]}}]}},
              {"class_name": "Dense", "config": {"name": "head", "units": 1, "activation": "linear", "use_bias": true}}]}}
            """;
        (string, string, float[], long[])[] backbone =
        [
            ("b/dense", "kernel", K2, [3, 2]), ("b/dense", "bias", B2, [2]),
            ("a/dense", "kernel", K1, [4, 3]), ("a/dense", "bias", B1, [3]),
            ("a/batch_normalization", "gamma", Gamma, [3]), ("a/batch_normalization", "beta", Beta, [3]),
            ("a/batch_normalization", "moving_mean", Mean, [3]), ("a/batch_normalization", "moving_variance", Var, [3]),
        ];
        AssertPredictsByHand(KerasHdf5.Import(LegacyFile((layer, name) => $"backbone/{layer}/{name}:0", config, backbone)));
    }

    /// <summary>The converter's model.json for the same file: the manifest lists the backbone's weights by their
    /// HDF5 names without ":0", in the same order.</summary>
    private static KerasArchiveImport Tfjs(Func<string, string, string> backboneName)
    {
        var specs = new JsonArray();
        var bytes = new List<byte>();
        foreach (var (name, data, shape) in Backbone.Select(w => (backboneName(w.Layer, w.Name), w.Data, w.Shape))
                     .Concat([("head/kernel", K3, [2L, 1]), ("head/bias", B3, [1L])]))
        {
            specs.Add(new JsonObject { ["name"] = name, ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()), ["dtype"] = "float32" });
            foreach (var v in data) bytes.AddRange(BitConverter.GetBytes(v));
        }
        var document = new JsonObject
        {
            ["format"] = "layers-model",
            ["generatedBy"] = "keras v2.15.0",
            ["convertedBy"] = "TensorFlow.js Converter v4.22.0",
            ["modelTopology"] = new JsonObject { ["keras_version"] = "2.15.0", ["backend"] = "tensorflow", ["model_config"] = JsonNode.Parse(ModelConfig) },
            ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = new JsonArray("group1-shard1of1.bin"), ["weights"] = specs }),
        };
        return TfjsImporter.Import(Encoding.UTF8.GetBytes(document.ToJsonString()), new Dictionary<string, byte[]> { ["group1-shard1of1.bin"] = bytes.ToArray() });
    }

    [Fact]
    public void TfjsManifest_NestedModel_WeightsNamedWithItsScope_LandInTheirLayers() =>
        AssertPredictsByHand(Tfjs((layer, name) => $"backbone/{layer}/{name}"));

    [Fact]
    public void TfjsManifest_NestedModelBuiltOnItsOwn_WeightsNamedByLayerOnly_LandInTheirLayers() =>
        AssertPredictsByHand(Tfjs((layer, name) => $"{layer}/{name}"));
}
