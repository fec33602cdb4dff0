using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Onnx;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// Exports with weights, checked by their real consumers: the <c>.keras</c> archive's HDF5 layout group by group (as
/// Keras 3's <c>saving_lib</c> writes it) and its round trip through our importer; the ONNX file loaded by ONNX Runtime,
/// predicting what the engine predicts within 1e-5.
/// </summary>
public class ModelExportTests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    [Fact]
    public void KerasExport_WritesWeightGroupsAsKeras3SavingLibNamesThem()
    {
        var (plan, session) = ExportModels.Build(ExportModels.Cnn);
        using var _ = session;
        var state = ExportModels.State(session);
        var archive = KerasArchive.Export(plan.Model, state, "cnn");

        using var zip = new ZipArchive(new MemoryStream(archive));
        Assert.Equal(["config.json", "metadata.json", "model.weights.h5"], zip.Entries.Select(e => e.FullName).Order().ToArray());
        using var h5Stream = new MemoryStream();
        using (var s = zip.GetEntry("model.weights.h5")!.Open()) s.CopyTo(h5Stream);
        h5Stream.Position = 0;
        using var h5 = H5File.Open(h5Stream);

        Assert.Equal(["layers", "vars"], Children(h5));
        Assert.Equal("cnn", h5.Group("vars").Attribute("name").Read<string>());
        Assert.Empty(Children(h5.Group("vars")));
        Assert.Equal(["average_pooling2d", "batch_normalization", "conv2d", "conv2d_1", "dense", "dropout", "flatten", "max_pooling2d"],
            Children(h5.Group("layers")));
        // Weightless layers still get their named, empty vars group (saving_lib creates it from the name metadata).
        foreach (var layer in new[] { "max_pooling2d", "average_pooling2d", "flatten", "dropout" })
        {
            Assert.Equal(["vars"], Children(h5.Group($"layers/{layer}")));
            Assert.Empty(Children(h5.Group($"layers/{layer}/vars")));
        }
        AssertVars(h5, "layers/conv2d/vars", "conv2d", [3, 3, 2, 4], [4]);
        AssertVars(h5, "layers/batch_normalization/vars", "batch_normalization", [4], [4], [4], [4]);
        AssertVars(h5, "layers/conv2d_1/vars", "conv2d_1", [2, 2, 4, 3], [3]);
        AssertVars(h5, "layers/dense/vars", "dense", [12, 3], [3]);

        // Values in Keras's layouts: conv kernel (kh, kw, in, out) from torch's (out, in, kh, kw); BN moving stats as is.
        var kernel = h5.Dataset("layers/conv2d/vars/0").Read<float[]>();
        var torchKernel = state["conv2d.weight"].data<float>().ToArray();   // (4, 2, 3, 3)
        Assert.Equal(torchKernel[((3 * 2 + 1) * 3 + 2) * 3 + 0], kernel[((2 * 3 + 0) * 2 + 1) * 4 + 3]);
        Assert.Equal(state["batch_normalization.moving_variance"].data<float>().ToArray(), h5.Dataset("layers/batch_normalization/vars/3").Read<float[]>());
        Assert.Equal(state["batch_normalization.gamma"].data<float>().ToArray(), h5.Dataset("layers/batch_normalization/vars/0").Read<float[]>());
    }

    [Fact]
    public void KerasExport_PutsAttentionAndEmbeddingWeightsInTheirSublayerGroups_AsKeras3SavesThem()
    {
        var (plan, session) = ExportModels.Build(ExportModels.Transformer);
        using var _ = session;
        var archive = KerasArchive.Export(plan.Model, ExportModels.State(session), "t");
        using var zip = new ZipArchive(new MemoryStream(archive));
        using var h5Stream = new MemoryStream();
        using (var s = zip.GetEntry("model.weights.h5")!.Open()) s.CopyTo(h5Stream);
        h5Stream.Position = 0;
        using var h5 = H5File.Open(h5Stream);

        // saving_lib walks attributes by name: MultiHeadAttention's EinsumDense sublayers are _query_dense … _output_dense
        // (kernels (in, heads, key_dim) and (heads, value_dim, out)); keras_hub's embedding keeps token_embedding and
        // position_embedding.
        AssertVars(h5, "layers/multi_head_attention/_query_dense/vars", "query", [8, 2, 4], [2, 4]);
        AssertVars(h5, "layers/multi_head_attention/_key_dense/vars", "key", [8, 2, 4], [2, 4]);
        AssertVars(h5, "layers/multi_head_attention/_value_dense/vars", "value", [8, 2, 4], [2, 4]);
        AssertVars(h5, "layers/multi_head_attention/_output_dense/vars", "attention_output", [2, 4, 8], [8]);
        AssertVars(h5, "layers/token_and_position_embedding/token_embedding/vars", "token_embedding", [12, 8]);
        AssertVars(h5, "layers/token_and_position_embedding/position_embedding/vars", "position_embedding", [6, 8]);
    }

    [Fact]
    public void KerasExport_PutsRecurrentWeightsInTheCellGroup_WithKerasGateLayouts()
    {
        var (plan, session) = ExportModels.Build(ExportModels.Gru);
        using var _ = session;
        var state = ExportModels.State(session);
        using var zip = new ZipArchive(new MemoryStream(KerasArchive.Export(plan.Model, state, "rnn")));
        using var h5Stream = new MemoryStream();
        using (var s = zip.GetEntry("model.weights.h5")!.Open()) s.CopyTo(h5Stream);
        h5Stream.Position = 0;
        using var h5 = H5File.Open(h5Stream);

        Assert.Equal(["dense", "gru", "simple_rnn"], Children(h5.Group("layers")));
        Assert.Equal(["cell", "vars"], Children(h5.Group("layers/gru")));
        Assert.Empty(Children(h5.Group("layers/gru/vars")));
        AssertVars(h5, "layers/gru/cell/vars", "gru_cell", [3, 12], [4, 12], [2, 12]);
        AssertVars(h5, "layers/simple_rnn/cell/vars", "simple_rnn_cell", [4, 3], [3, 3], [3]);
        // GRU: torch rows [r|z|n] → Keras columns [z|r|h]: Keras kernel[i, j] for j in the z block = torch row u + j.
        var k = h5.Dataset("layers/gru/cell/vars/0").Read<float[]>();
        var w = state["gru.gru.weight_ih_l0"].data<float>().ToArray();   // (12, 3)
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 4; j++)
            {
                Assert.Equal(w[(4 + j) * 3 + i], k[i * 12 + j]);            // z
                Assert.Equal(w[j * 3 + i], k[i * 12 + 4 + j]);              // r
                Assert.Equal(w[(8 + j) * 3 + i], k[i * 12 + 8 + j]);        // h
            }
        // SimpleRNN: Keras's single bias is torch's two summed.
        var bias = h5.Dataset("layers/simple_rnn/cell/vars/2").Read<float[]>();
        var expected = (state["simple_rnn.rnn.bias_ih_l0"] + state["simple_rnn.rnn.bias_hh_l0"]).data<float>().ToArray();
        Assert.Equal(expected, bias);
    }

    [Theory]
    [InlineData(ExportModels.Mlp)]
    [InlineData(ExportModels.Cnn)]
    [InlineData(ExportModels.Lstm)]
    [InlineData(ExportModels.Gru)]
    [InlineData(ExportModels.GruResetBefore)]
    [InlineData(ExportModels.ConvFamily2D)]
    [InlineData(ExportModels.ConvFamily1D)]
    [InlineData(ExportModels.Conv3D)]
    [InlineData(ExportModels.Augmented)]
    [InlineData(ExportModels.Transformer)]
    [InlineData(ExportModels.AttentionLayers)]
    [InlineData(ExportModels.NormalizationAndPReLU)]
    [InlineData(ExportModels.Resized)]
    [InlineData(ExportModels.Normalized)]
    public void KerasExport_RoundTripsThroughTheImporter_PredictingTheSame(string model)
    {
        var (plan, session) = ExportModels.Build(model);
        using var _ = session;
        var archive = KerasArchive.Export(plan.Model, ExportModels.State(session), "m");
        var import = KerasArchive.Import(archive);
        var plan2 = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), Mse, null);
        using var session2 = ModelSession.Restore(plan2, import.Weights!);
        var x = ExportModels.Input(plan);
        var expected = ExportModels.Predict(session, x);
        var actual = ExportModels.Predict(session2, x);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
    }

    [Theory]
    [InlineData(ExportModels.Mlp)]
    [InlineData(ExportModels.Cnn)]
    [InlineData(ExportModels.Lstm)]
    [InlineData(ExportModels.Gru)]
    [InlineData(ExportModels.GruResetBefore)]
    [InlineData(ExportModels.ConvFamily2D)]
    [InlineData(ExportModels.ConvFamily1D)]
    [InlineData(ExportModels.Conv3D)]
    [InlineData(ExportModels.Augmented)]
    [InlineData(ExportModels.Resized)]
    [InlineData(ExportModels.Normalized)]
    public void OnnxExport_LoadsInOnnxRuntime_AndPredictsWhatTheEnginePredicts(string model)
    {
        var (plan, session) = ExportModels.Build(model);
        using var _ = session;
        var onnx = OnnxExporter.Export(plan.Model, ExportModels.State(session), "m", new System.Text.Json.Nodes.JsonObject { ["rescale"] = 0.5 });
        var x = ExportModels.Input(plan);
        var expected = ExportModels.Predict(session, x);

        using var ort = new InferenceSession(onnx);
        Assert.Equal("{\"rescale\":0.5}", ort.ModelMetadata.CustomMetadataMap["training_service"]);
        var dims = x.Shape.Select(d => (int)d).ToArray();
        var input = x.Integer
            ? NamedOnnxValue.CreateFromTensor(plan.Model.Inputs[0].Name, new DenseTensor<long>(x.Data.Select(v => (long)v).ToArray(), dims))
            : NamedOnnxValue.CreateFromTensor(plan.Model.Inputs[0].Name, new DenseTensor<float>(x.Data, dims));
        using var results = ort.Run([input]);
        var output = results.Single();
        Assert.Equal("output", output.Name);
        var actual = output.AsEnumerable<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public void KerasExport_WritesAdaptedNormalizationAsMeanVarianceAndAnInt64Count_AndNothingForConfigStatistics()
    {
        var (plan, session) = ExportModels.Build(ExportModels.Normalized);
        using var _ = session;
        var state = ExportModels.State(session);
        using var zip = new ZipArchive(new MemoryStream(KerasArchive.Export(plan.Model, state, "n")));
        using var h5Stream = new MemoryStream();
        using (var s = zip.GetEntry("model.weights.h5")!.Open()) s.CopyTo(h5Stream);
        h5Stream.Position = 0;
        using var h5 = H5File.Open(h5Stream);

        Assert.Equal(["dense", "dense_1", "flatten", "normalization", "normalization_1", "normalization_2", "normalization_3"], Children(h5.Group("layers")));
        // Keras 3's build: mean and variance shaped as the kept axes (axis=None: scalars), then count, a scalar of dtype "int".
        AssertVars(h5, "layers/normalization/vars", "normalization", [4], [4], []);
        AssertVars(h5, "layers/normalization_1/vars", "normalization_1", [], [], []);
        AssertVars(h5, "layers/normalization_3/vars", "normalization_2", [3], [3], []);   // Keras counts the class; the layer kept its own name
        AssertVars(h5, "layers/normalization_2/vars", "given");   // mean and variance in the config: no variables
        Assert.Equal(state["normalization.mean"].data<float>().ToArray(), h5.Dataset("layers/normalization/vars/0").Read<float[]>());
        Assert.Equal(state["normalization.variance"].data<float>().ToArray(), h5.Dataset("layers/normalization/vars/1").Read<float[]>());
        var count = h5.Dataset("layers/normalization/vars/2");
        Assert.Equal(H5DataTypeClass.FixedPoint, count.Type.Class);
        Assert.Equal(8, count.Type.Size);
        Assert.Equal([0L], count.Read<long[]>());

        // The config Keras rebuilds the layers from: axis -1 (not null, which Keras reads as "all axes"), null statistics
        // for the adapted layers, the given ones for "given".
        using var config = System.Text.Json.JsonDocument.Parse(zip.GetEntry("config.json")!.Open());
        var layers = config.RootElement.GetProperty("config").GetProperty("layers").EnumerateArray()
            .Where(l => l.GetProperty("class_name").GetString() == "Normalization").Select(l => l.GetProperty("config")).ToArray();
        Assert.Equal("-1", layers[0].GetProperty("axis").GetRawText().Trim('[', ']'));
        Assert.Equal(JsonValueKind.Null, layers[0].GetProperty("mean").ValueKind);
        Assert.Equal(JsonValueKind.Null, layers[1].GetProperty("axis").ValueKind);
        Assert.Equal("[0.5,-0.2,0.1]", layers[2].GetProperty("mean").GetRawText().Replace(" ", ""));
        Assert.True(layers[3].GetProperty("invert").GetBoolean());
    }

    /// <summary>Keras divides by max(√variance, 1e-7): with a variance of 0 the ONNX graph must floor the divisor as Keras
    /// does, not divide by zero (nor add ε to the variance, as BatchNormalization would).</summary>
    [Fact]
    public void OnnxExport_Normalization_FloorsTheStandardDeviationAtKerasEpsilon()
    {
        var (plan, session) = ExportModels.Build("""
            {"input_shape": [2], "layers": [{"type": "Normalization", "mean": [0.5, 0.0], "variance": [0.0, 4.0]}]}
            """);
        using var _ = session;
        using var ort = new InferenceSession(OnnxExporter.Export(plan.Model, ExportModels.State(session), "m"));
        float[] x = [0.5000003f, 3f, 0.4999999f, -1f];
        using var results = ort.Run([NamedOnnxValue.CreateFromTensor(plan.Model.Inputs[0].Name, new DenseTensor<float>(x, [2, 2]))]);
        var actual = results.Single().AsEnumerable<float>().ToArray();
        double[] expected = [(x[0] - 0.5) / 1e-7, 3 / 2.0, (x[2] - 0.5) / 1e-7, -1 / 2.0];
        for (var i = 0; i < 4; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void OnnxExport_RefusesALayerItCannotWrite_NamingIt()
    {
        var (plan, session) = ExportModels.Build("""
            {"input_shape": [4, 4, 1], "layers": [{"type": "UpSampling2D", "size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 2}]}
            """);
        using var _ = session;
        var e = Assert.Throws<SpecException>(() => OnnxExporter.Export(plan.Model, ExportModels.State(session), "m"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[0]", error.Path);
        Assert.Contains("'up_sampling2d' (UpSampling2D)", error.Message);
    }

    private static string[] Children(IH5Group group) => group.Children().Select(c => c.Name).Order(StringComparer.Ordinal).ToArray();

    private static void AssertVars(IH5Group h5, string path, string owner, params long[][] shapes)
    {
        var vars = h5.Group(path);
        Assert.Equal(owner, vars.Attribute("name").Read<string>());
        Assert.Equal(Enumerable.Range(0, shapes.Length).Select(i => i.ToString()).ToArray(), Children(vars));
        for (var i = 0; i < shapes.Length; i++)
            Assert.Equal(shapes[i], vars.Dataset(i.ToString()).Space.Dimensions.Select(d => (long)d).ToArray());
    }
}
