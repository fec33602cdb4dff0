using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// <c>.keras</c> archives built here (zip + HDF5 written with PureHDF, variables in Keras's layouts at Keras 3's
/// <c>layers/&lt;class&gt;/vars/i</c> paths) import with their weights: the values read back equal those written, and
/// predictions equal a forward pass computed by hand with Keras's formulas.
/// </summary>
public class KerasArchiveTests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    /// <summary>Deterministic values in (-0.5, 0.5).</summary>
    private static float[] Values(int n, int seed) => Enumerable.Range(0, n).Select(i => (float)(0.5 * Math.Sin(1.7 * i + seed))).ToArray();

    private static JsonNode KerasConfig(string nativeModel) =>
        KerasExporter.Export(TrainingPlan.Parse(SpecFiles.Json(nativeModel), Mse, null).Model);

    private static (TrainingPlan Plan, ModelSession Session, KerasArchiveImport Import) Load(byte[] archive)
    {
        var import = KerasArchive.Import(archive);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), Mse, SpecFiles.Json("""{"batch_size": 4, "seed": 1}"""));
        return (plan, ModelSession.Restore(plan, import.Weights!), import);
    }

    private static Dictionary<string, Tensor> ReadArchive(byte[] weights)
    {
        using var ms = new MemoryStream(weights);
        return TensorArchive.Read(ms);
    }

    [Fact]
    public void DenseModel_WeightsRoundTrip_AndPredictionsMatchAHandComputedForwardPass()
    {
        // Keras layouts: kernel (in, out). Layer names differ from the class names: weights are found by class.
        var k1 = Values(3 * 4, 1); var b1 = Values(4, 2); var k2 = Values(4 * 2, 3); var b2 = Values(2, 4);
        var archive = KerasArchive.Create(KerasConfig("""
            {"input_shape": [3], "layers": [{"type": "Dense", "name": "hidden", "units": 4, "activation": "relu"},
                                             {"type": "Dense", "name": "out", "units": 2}]}
            """), new Dictionary<string, (float[], long[])>
        {
            ["layers/dense/vars/0"] = (k1, [3, 4]), ["layers/dense/vars/1"] = (b1, [4]),
            ["layers/dense_1/vars/0"] = (k2, [4, 2]), ["layers/dense_1/vars/1"] = (b2, [2]),
        });
        var (_, session, import) = Load(archive);
        using var _s = session;

        var stored = ReadArchive(import.Weights!);
        Assert.Equal(Transpose(k1, 3, 4), stored["hidden.weight"].data<float>().ToArray());
        Assert.Equal(b1, stored["hidden.bias"].data<float>().ToArray());
        Assert.Equal(Transpose(k2, 4, 2), stored["out.weight"].data<float>().ToArray());
        Assert.Equal(b2, stored["out.bias"].data<float>().ToArray());

        var x = Values(5 * 3, 9);
        var predicted = session.Predict([tensor(x, [5, 3])])[0].data<float>().ToArray();
        for (var n = 0; n < 5; n++)
        {
            var h = new double[4];
            for (var j = 0; j < 4; j++)
            {
                double z = b1[j];
                for (var i = 0; i < 3; i++) z += x[n * 3 + i] * k1[i * 4 + j];
                h[j] = Math.Max(0, z);
            }
            for (var o = 0; o < 2; o++)
            {
                double y = b2[o];
                for (var j = 0; j < 4; j++) y += h[j] * k2[j * 2 + o];
                Assert.Equal(y, predicted[n * 2 + o], 5);
            }
        }
    }

    [Fact]
    public void Conv2DModel_PredictionsMatchAHandComputedForwardPass()
    {
        // Conv2D kernel (kh, kw, in, out) = (3, 3, 1, 2) on 4x4x1 → 2x2x2 → Flatten (channels last) → Dense 1.
        var kernel = Values(3 * 3 * 1 * 2, 5); var bias = Values(2, 6); var dk = Values(8, 7); var db = Values(1, 8);
        var archive = KerasArchive.Create(KerasConfig("""
            {"input_shape": [4, 4, 1], "layers": [{"type": "Conv2D", "name": "features", "filters": 2, "kernel_size": 3},
                                                   {"type": "Flatten"}, {"type": "Dense", "name": "score", "units": 1}]}
            """), new Dictionary<string, (float[], long[])>
        {
            ["layers/conv2d/vars/0"] = (kernel, [3, 3, 1, 2]), ["layers/conv2d/vars/1"] = (bias, [2]),
            ["layers/dense/vars/0"] = (dk, [8, 1]), ["layers/dense/vars/1"] = (db, [1]),
        });
        var (_, session, import) = Load(archive);
        using var _s = session;
        var stored = ReadArchive(import.Weights!);
        Assert.Equal([2L, 1, 3, 3], stored["features.weight"].shape);
        // torch (out, in, kh, kw)[f, 0, i, j] = Keras (kh, kw, in, out)[i, j, 0, f]
        Assert.Equal(kernel[(1 * 3 + 2) * 2 + 1], stored["features.weight"][1, 0, 1, 2].item<float>());

        var x = Values(3 * 16, 11);
        var predicted = session.Predict([tensor(x, [3, 4, 4, 1])])[0].data<float>().ToArray();
        for (var n = 0; n < 3; n++)
        {
            var flat = new double[8];
            for (var i = 0; i < 2; i++)
            for (var j = 0; j < 2; j++)
            for (var f = 0; f < 2; f++)
            {
                double z = bias[f];
                for (var di = 0; di < 3; di++)
                for (var dj = 0; dj < 3; dj++)
                    z += x[n * 16 + (i + di) * 4 + (j + dj)] * kernel[(di * 3 + dj) * 2 + f];
                flat[(i * 2 + j) * 2 + f] = z;
            }
            double y = db[0];
            for (var k = 0; k < 8; k++) y += flat[k] * dk[k];
            Assert.Equal(y, predicted[n], 5);
        }
    }

    [Fact]
    public void RecurrentModel_KerasGateLayouts_GiveKerasOutputs()
    {
        // LSTM kernel (in, 4u) [i|f|c|o], recurrent (u, 4u), bias (4u); GRU (reset_after) kernel (in, 3u) [z|r|h],
        // recurrent (u, 3u), bias (2, 3u) = (input bias, recurrent bias). The engine stores GRU gates as torch's [r|z|n].
        const int steps = 3, features = 2, u = 2, v = 3;
        var lk = Values(features * 4 * u, 21); var lr = Values(u * 4 * u, 22); var lb = Values(4 * u, 23);
        var gk = Values(u * 3 * v, 24); var gr = Values(v * 3 * v, 25); var gb = Values(2 * 3 * v, 26);
        var archive = KerasArchive.Create(KerasConfig("""
            {"input_shape": [3, 2], "layers": [{"type": "LSTM", "units": 2, "return_sequences": true}, {"type": "GRU", "units": 3}]}
            """), new Dictionary<string, (float[], long[])>
        {
            ["layers/lstm/cell/vars/0"] = (lk, [features, 4 * u]), ["layers/lstm/cell/vars/1"] = (lr, [u, 4 * u]), ["layers/lstm/cell/vars/2"] = (lb, [4 * u]),
            ["layers/gru/cell/vars/0"] = (gk, [u, 3 * v]), ["layers/gru/cell/vars/1"] = (gr, [v, 3 * v]), ["layers/gru/cell/vars/2"] = (gb, [2, 3 * v]),
        });
        var (_, session, import) = Load(archive);
        using var _s = session;
        var stored = ReadArchive(import.Weights!);
        Assert.All(stored["lstm.lstm.bias_hh_l0"].data<float>().ToArray(), b => Assert.Equal(0f, b));

        var x = Values(2 * steps * features, 31);
        var predicted = session.Predict([tensor(x, [2, steps, features])])[0].data<float>().ToArray();
        static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
        for (var n = 0; n < 2; n++)
        {
            double[] h = new double[u], c = new double[u], g = new double[v];
            for (var t = 0; t < steps; t++)
            {
                var z = new double[4 * u];
                for (var k = 0; k < 4 * u; k++)
                {
                    z[k] = lb[k];
                    for (var i = 0; i < features; i++) z[k] += x[(n * steps + t) * features + i] * lk[i * 4 * u + k];
                    for (var i = 0; i < u; i++) z[k] += h[i] * lr[i * 4 * u + k];
                }
                for (var k = 0; k < u; k++)
                {
                    c[k] = Sigmoid(z[u + k]) * c[k] + Sigmoid(z[k]) * Math.Tanh(z[2 * u + k]);
                    h[k] = Sigmoid(z[3 * u + k]) * Math.Tanh(c[k]);
                }
                // GRU step on the LSTM's output h (Keras reset_after: r multiplies the recurrent projection).
                var xg = new double[3 * v];
                var hg = new double[3 * v];
                for (var k = 0; k < 3 * v; k++)
                {
                    xg[k] = gb[k];
                    hg[k] = gb[3 * v + k];
                    for (var i = 0; i < u; i++) xg[k] += h[i] * gk[i * 3 * v + k];
                    for (var i = 0; i < v; i++) hg[k] += g[i] * gr[i * 3 * v + k];
                }
                var next = new double[v];
                for (var k = 0; k < v; k++)
                {
                    var zg = Sigmoid(xg[k] + hg[k]);
                    var r = Sigmoid(xg[v + k] + hg[v + k]);
                    var hh = Math.Tanh(xg[2 * v + k] + r * hg[2 * v + k]);
                    next[k] = zg * g[k] + (1 - zg) * hh;
                }
                g = next;
            }
            for (var k = 0; k < v; k++) Assert.Equal(g[k], predicted[n * v + k], 5);
        }
    }

    [Fact]
    public void EmbeddingAndBatchNormalization_WeightsAndMovingStatistics_AreUsed()
    {
        var emb = Values(5 * 2, 41); var gamma = Values(6, 42); var beta = Values(6, 43);
        var mean = Values(6, 44); var variance = Values(6, 45).Select(a => a + 1f).ToArray();
        var dk = Values(6, 46); var db = Values(1, 47);
        var archive = KerasArchive.Create(KerasConfig("""
            {"input_shape": [3], "layers": [{"type": "Embedding", "input_dim": 5, "output_dim": 2}, {"type": "Flatten"},
                                             {"type": "BatchNormalization"}, {"type": "Dense", "units": 1}]}
            """), new Dictionary<string, (float[], long[])>
        {
            ["layers/embedding/vars/0"] = (emb, [5, 2]),
            ["layers/batch_normalization/vars/0"] = (gamma, [6]), ["layers/batch_normalization/vars/1"] = (beta, [6]),
            ["layers/batch_normalization/vars/2"] = (mean, [6]), ["layers/batch_normalization/vars/3"] = (variance, [6]),
            ["layers/dense/vars/0"] = (dk, [6, 1]), ["layers/dense/vars/1"] = (db, [1]),
        });
        var (_, session, _) = Load(archive);
        using var _s = session;
        long[] tokens = [1, 4, 0, 3, 3, 2];
        var predicted = session.Predict([tensor(tokens, [2, 3])])[0].data<float>().ToArray();
        for (var n = 0; n < 2; n++)
        {
            double y = db[0];
            for (var k = 0; k < 6; k++)
            {
                var e = emb[tokens[n * 3 + k / 2] * 2 + k % 2];
                var normalized = (e - mean[k]) / Math.Sqrt(variance[k] + 1e-3) * gamma[k] + beta[k];
                y += normalized * dk[k];
            }
            Assert.Equal(y, predicted[n], 5);
        }
    }

    [Fact]
    public void BidirectionalWeights_ComeFromForwardAndBackwardLayerGroups()
    {
        var fk = Values(3 * 8, 51); var fr = Values(2 * 8, 52); var fb = Values(8, 53);
        var bk = Values(3 * 8, 54); var br = Values(2 * 8, 55); var bb = Values(8, 56);
        var archive = KerasArchive.Create(KerasConfig("""
            {"input_shape": [4, 3], "layers": [{"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2}}]}
            """), new Dictionary<string, (float[], long[])>
        {
            ["layers/bidirectional/forward_layer/cell/vars/0"] = (fk, [3, 8]), ["layers/bidirectional/forward_layer/cell/vars/1"] = (fr, [2, 8]),
            ["layers/bidirectional/forward_layer/cell/vars/2"] = (fb, [8]),
            ["layers/bidirectional/backward_layer/cell/vars/0"] = (bk, [3, 8]), ["layers/bidirectional/backward_layer/cell/vars/1"] = (br, [2, 8]),
            ["layers/bidirectional/backward_layer/cell/vars/2"] = (bb, [8]),
        });
        var stored = ReadArchive(KerasArchive.Import(archive).Weights!);
        Assert.Equal(Transpose(fk, 3, 8), stored["bidirectional.forward_layer.lstm.weight_ih_l0"].data<float>().ToArray());
        Assert.Equal(Transpose(br, 2, 8), stored["bidirectional.backward_layer.lstm.weight_hh_l0"].data<float>().ToArray());
        Assert.Equal(bb, stored["bidirectional.backward_layer.lstm.bias_ih_l0"].data<float>().ToArray());
    }

    [Fact]
    public void ImportedWeights_StartAFit_FineTuning()
    {
        var archive = KerasArchive.Create(KerasConfig("""{"input_shape": [3], "layers": [{"type": "Dense", "units": 1}]}"""),
            new Dictionary<string, (float[], long[])> { ["layers/dense/vars/0"] = ([1f, 2f, 3f], [3, 1]), ["layers/dense/vars/1"] = ([0.5f], [1]) });
        var (plan, session, _) = Load(archive);
        using var _s = session;
        using var data = KerasCorpusTests.RandomData(plan, 8);
        var before = session.Evaluate(data)["loss"];
        // Predictions from the imported weights (y = x1 + 2·x2 + 3·x3 + 0.5) are far from targets in [0, 1).
        Assert.True(before > 1.0, $"loss before fine-tuning {before}");
        var history = session.Fit(data, null, null, CancellationToken.None).History;
        Assert.True(history[0].Logs["loss"] > 1.0, "the first epoch starts from the imported weights");
        Assert.True(session.Evaluate(data)["loss"] < before);
    }

    [Fact]
    public void MissingLayerWeights_AreRefusedAtTheLayer()
    {
        var archive = KerasArchive.Create(KerasConfig("""{"input_shape": [3], "layers": [{"type": "Dense", "units": 2}, {"type": "Dense", "units": 1}]}"""),
            new Dictionary<string, (float[], long[])> { ["layers/dense/vars/0"] = (Values(6, 1), [3, 2]), ["layers/dense/vars/1"] = (Values(2, 1), [2]) });
        var e = Assert.Throws<SpecException>(() => KerasArchive.Import(archive));
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.config.layers[2]", error.Path);
        Assert.Contains("no weights for this layer (expected the group layers/dense_1/vars)", error.Message);
    }

    [Fact]
    public void WrongWeightShape_IsRefusedAtTheLayer()
    {
        var archive = KerasArchive.Create(KerasConfig("""{"input_shape": [3], "layers": [{"type": "Dense", "units": 2}]}"""),
            new Dictionary<string, (float[], long[])> { ["layers/dense/vars/0"] = (Values(8, 1), [4, 2]), ["layers/dense/vars/1"] = (Values(2, 1), [2]) });
        var e = Assert.Throws<SpecException>(() => KerasArchive.Import(archive));
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.config.layers[1]", error.Path);
        Assert.Contains("dense.weight has shape [2, 4] after conversion; the layer needs [2, 3]", error.Message);
    }

    [Fact]
    public void ArchiveWithoutWeights_ConvertsWithANote()
    {
        var import = KerasArchive.Import(KerasArchive.Create(KerasConfig("""{"input_shape": [3], "layers": [{"type": "Dense", "units": 2}]}""")));
        Assert.Null(import.Weights);
        Assert.Contains(import.Conversion.Notes, n => n.Contains("no weights"));
    }

    [Fact]
    public void NotAZip_IsRefused()
    {
        var e = Assert.Throws<SpecException>(() => KerasArchive.Import("not a zip"u8.ToArray()));
        Assert.Equal("model", e.Errors[0].Path);
        Assert.Contains("not a .keras archive", e.Errors[0].Message);
    }

    private static float[] Transpose(float[] m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (var i = 0; i < rows; i++)
        for (var j = 0; j < cols; j++)
            t[j * rows + i] = m[i * cols + j];
        return t;
    }
}
