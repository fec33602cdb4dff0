using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// The other Keras files that carry weights, built here from the formats' descriptions (PureHDF for HDF5, bytes for
/// TF.js shards): a legacy full-model HDF5 file (root <c>model_config</c>, <c>model_weights/&lt;layer&gt;</c> groups with
/// <c>weight_names</c>), Keras 2's <c>save_weights</c> file and Keras 3's <c>.weights.h5</c> beside an architecture, and a
/// TF.js layers model (model.json + shards, as files or a zip). Each predicts the forward pass computed here by hand:
/// Flatten → Dense(3, relu) → BatchNormalization (inference) → Dense(2).
/// </summary>
public class WeightFileImportTests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    private static float[] Values(int n, int seed) => Enumerable.Range(0, n).Select(i => (float)(0.5 * Math.Sin(1.9 * i + seed))).ToArray();

    private static readonly float[] K1 = Values(4 * 3, 1), B1 = Values(3, 2), Gamma = Values(3, 3), Beta = Values(3, 4),
        Mean = Values(3, 5), Var = Values(3, 6).Select(v => v + 1).ToArray(), K2 = Values(3 * 2, 7), B2 = Values(2, 8);

    private const string ModelConfig = """
        {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "flatten_input"}},
          {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"}},
          {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 3, "activation": "relu", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
          {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "trainable": true, "dtype": "float32", "axis": [1], "momentum": 0.99,
            "epsilon": 0.001, "center": true, "scale": true}},
          {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": true}}]}}
        """;

    private static (string Layer, string Name, float[] Data, long[] Shape)[] Weights =>
    [
        ("dense", "kernel", K1, [4, 3]), ("dense", "bias", B1, [3]),
        ("batch_normalization", "gamma", Gamma, [3]), ("batch_normalization", "beta", Beta, [3]),
        ("batch_normalization", "moving_mean", Mean, [3]), ("batch_normalization", "moving_variance", Var, [3]),
        ("dense_1", "kernel", K2, [3, 2]), ("dense_1", "bias", B2, [2]),
    ];

    private static float[] HandComputed(float[] x, int n)
    {
        var y = new float[n * 2];
        for (var s = 0; s < n; s++)
        {
            var h = new double[3];
            for (var j = 0; j < 3; j++)
            {
                double z = B1[j];
                for (var i = 0; i < 4; i++) z += x[s * 4 + i] * K1[i * 3 + j];
                z = Math.Max(0, z);
                h[j] = (z - Mean[j]) / Math.Sqrt(Var[j] + 0.001) * Gamma[j] + Beta[j];
            }
            for (var o = 0; o < 2; o++)
            {
                double z = B2[o];
                for (var j = 0; j < 3; j++) z += h[j] * K2[j * 2 + o];
                y[s * 2 + o] = (float)z;
            }
        }
        return y;
    }

    private static void AssertPredictsByHand(KerasArchiveImport import)
    {
        Assert.NotNull(import.Weights);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), Mse, null);
        using var session = ModelSession.Restore(plan, import.Weights!);
        var x = Values(5 * 4, 9);
        var predicted = session.Predict([tensor(x, [5, 2, 2])])[0].data<float>().ToArray();
        var expected = HandComputed(x, 5);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - predicted[i]) < 1e-5, $"[{i}] expected {expected[i]}, got {predicted[i]}");
    }

    /// <summary>Layer groups as Keras 2's <c>save_weights_to_hdf5_group</c> writes them: <c>layer_names</c> on the
    /// parent, <c>weight_names</c> on each layer group, each dataset at <c>&lt;layer&gt;/&lt;layer&gt;/&lt;name&gt;:0</c>.</summary>
    private static void LegacyLayerGroups(H5Group parent, long[]? firstShape = null, bool keras3Writer = false)
    {
        string[] layers = ["flatten_input", "flatten", "dense", "batch_normalization", "dense_1"];
        parent.Attributes["layer_names"] = layers;
        parent.Attributes["backend"] = "tensorflow";
        parent.Attributes["keras_version"] = "2.15.0";
        foreach (var layer in layers)
        {
            var group = new H5Group();
            var own = Weights.Where(w => w.Layer == layer).ToArray();
            // Keras 3's legacy writer names weights by variable path (no ":0"); a long list is split as weight_names0, 1, ….
            var names = own.Select(w => keras3Writer ? $"{layer}/{w.Name}" : $"{layer}/{w.Name}:0").ToArray();
            if (keras3Writer && names.Length > 1)
            {
                group.Attributes["weight_names0"] = names[..1];
                group.Attributes["weight_names1"] = names[1..];
            }
            else group.Attributes["weight_names"] = names;
            if (own.Length > 0)
            {
                var inner = new H5Group();
                foreach (var w in own)
                {
                    var shape = layer == "dense" && w.Name == "kernel" && firstShape is not null ? firstShape : w.Shape;
                    var data = shape == w.Shape ? w.Data : new float[shape.Aggregate(1L, (a, b) => a * b)];
                    inner[keras3Writer ? w.Name : $"{w.Name}:0"] = new H5Dataset(data, fileDims: shape.Select(d => (ulong)d).ToArray());
                }
                group[layer] = inner;
            }
            parent[layer] = group;
        }
    }

    private static byte[] Write(H5File file)
    {
        using var ms = new MemoryStream();
        file.Write(ms);
        return ms.ToArray();
    }

    private static byte[] LegacyFullModel(long[]? firstShape = null, bool keras3Writer = false)
    {
        var file = new H5File();
        file.Attributes["model_config"] = ModelConfig;
        file.Attributes["keras_version"] = "2.15.0";
        file.Attributes["backend"] = "tensorflow";
        file.Attributes["training_config"] = """{"loss": "mse", "metrics": null, "weighted_metrics": null, "loss_weights": null, "optimizer_config": {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001}}}""";
        var weights = new H5Group();
        LegacyLayerGroups(weights, firstShape, keras3Writer);
        file["model_weights"] = weights;
        return Write(file);
    }

    [Fact]
    public void LegacyHdf5FullModel_LoadsWithItsWeights_AndPredictsTheHandComputedPass()
    {
        var import = KerasHdf5.Import(LegacyFullModel());
        Assert.Equal("2.15.0", import.Conversion.Version.Text);
        Assert.NotNull(import.Conversion.Compile);
        AssertPredictsByHand(import);
    }

    [Fact]
    public void LegacyHdf5_AsKeras3sLegacyWriterNamesAndSplitsWeightNames_Loads() =>
        AssertPredictsByHand(KerasHdf5.Import(LegacyFullModel(keras3Writer: true)));

    [Fact]
    public void LegacyHdf5_WeightShapeDeclaredHuge_IsRefusedUnread_AtTheLayer()
    {
        var e = Assert.Throws<SpecException>(() => KerasHdf5.Import(LegacyFullModel(firstShape: [4, 3_000_000])));
        Assert.Contains(e.Errors, x => x.Message.Contains("not read", StringComparison.Ordinal));
    }

    [Fact]
    public void LegacyHdf5_WithoutModelConfig_AsksForTheArchitecture()
    {
        var file = new H5File();
        LegacyLayerGroups(file);
        var e = Assert.Throws<SpecException>(() => KerasHdf5.Import(Write(file)));
        Assert.Contains("architecture", e.Errors.Single().Message);
    }

    [Fact]
    public void Keras2SaveWeights_BesideItsArchitecture_Loads()
    {
        var file = new H5File();
        LegacyLayerGroups(file);
        AssertPredictsByHand(KerasHdf5.ImportWeights(Write(file), SpecFiles.Json(ModelConfig)));
    }

    [Fact]
    public void Keras3WeightsH5_BesideItsArchitecture_Loads()
    {
        // Keras 3's .weights.h5: layers/<class in snake case, numbered>/vars/<i>, the architecture as to_json().
        var file = new H5File();
        var layers = new H5Group();
        foreach (var (group, layer) in new[] { ("dense", "dense"), ("batch_normalization", "batch_normalization"), ("dense_1", "dense_1") })
        {
            var vars = new H5Group();
            var i = 0;
            foreach (var w in Weights.Where(w => w.Layer == layer))
                vars[(i++).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new H5Dataset(w.Data, fileDims: w.Shape.Select(d => (ulong)d).ToArray());
            layers[group] = new H5Group { ["vars"] = vars };
        }
        file["layers"] = layers;
        var architecture = KerasExporter.Export(KerasImporter.Convert(SpecFiles.Json(ModelConfig)) is var c
            ? TrainingPlan.Parse(JsonSerializer.SerializeToElement(c.Model), Mse, null).Model : null!);
        AssertPredictsByHand(KerasHdf5.ImportWeights(Write(file), JsonSerializer.SerializeToElement(architecture)));
    }

    /// <summary>model.json (converter form: modelTopology with model_config) and the weights split over two shards,
    /// the second starting inside a weight.</summary>
    private static (byte[] Json, Dictionary<string, byte[]> Shards) Tfjs(long[]? firstShape = null)
    {
        var specs = new JsonArray();
        var bytes = new List<byte>();
        foreach (var w in Weights)
        {
            specs.Add(new JsonObject { ["name"] = $"{w.Layer}/{w.Name}", ["shape"] = new JsonArray((firstShape is not null && w.Layer == "dense" && w.Name == "kernel" ? firstShape : w.Shape).Select(d => (JsonNode)d).ToArray()), ["dtype"] = "float32" });
            foreach (var v in w.Data) bytes.AddRange(BitConverter.GetBytes(v));
        }
        var all = bytes.ToArray();
        var document = new JsonObject
        {
            ["format"] = "layers-model",
            ["generatedBy"] = "keras v2.15.0",
            ["convertedBy"] = "TensorFlow.js Converter v4.22.0",
            ["modelTopology"] = new JsonObject { ["keras_version"] = "2.15.0", ["backend"] = "tensorflow", ["model_config"] = JsonNode.Parse(ModelConfig) },
            ["weightsManifest"] = new JsonArray(new JsonObject
            {
                ["paths"] = new JsonArray("group1-shard1of2.bin", "group1-shard2of2.bin"),
                ["weights"] = specs,
            }),
        };
        return (Encoding.UTF8.GetBytes(document.ToJsonString()), new Dictionary<string, byte[]>
        {
            ["group1-shard1of2.bin"] = all[..30], ["group1-shard2of2.bin"] = all[30..],
        });
    }

    [Fact]
    public void TfjsLayersModel_WithItsShards_LoadsAndPredictsTheHandComputedPass()
    {
        var (json, shards) = Tfjs();
        var import = TfjsImporter.Import(json, shards);
        Assert.DoesNotContain(import.Conversion.Notes, n => n.Contains("shards", StringComparison.Ordinal));
        AssertPredictsByHand(import);
    }

    [Fact]
    public void TfjsLayersModel_AsAZip_Loads()
    {
        var (json, shards) = Tfjs();
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in shards.Append(new("model.json", json)))
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(content);
            }
        }
        Assert.True(TfjsImporter.IsTfjsZip(ms.ToArray()));
        AssertPredictsByHand(TfjsImporter.ImportZip(ms.ToArray()));
    }

    [Fact]
    public void Tfjs_MissingShard_IsRefusedNamingIt()
    {
        var (json, shards) = Tfjs();
        shards.Remove("group1-shard2of2.bin");
        var e = Assert.Throws<SpecException>(() => TfjsImporter.Import(json, shards));
        Assert.Equal("model:group1-shard2of2.bin", e.Errors.Single().Path);
    }

    [Fact]
    public void Tfjs_ManifestDeclaringMoreValuesThanTheModelHolds_IsRefusedBeforeReadingShards()
    {
        var (json, shards) = Tfjs(firstShape: [4, 50_000_000]);
        var e = Assert.Throws<SpecException>(() => TfjsImporter.Import(json, shards));
        Assert.Contains("not read", e.Errors.Single().Message);
    }

    [Fact]
    public void Tfjs_ShardsShorterThanTheManifest_AreRefused()
    {
        var (json, shards) = Tfjs();
        shards["group1-shard2of2.bin"] = shards["group1-shard2of2.bin"][..^4];
        var e = Assert.Throws<SpecException>(() => TfjsImporter.Import(json, shards));
        Assert.Contains("need", e.Errors.Single().Message);
    }
}
