using TrainingService.Training.Layers;
using static TorchSharp.torch;
using static TrainingService.Training.Tests.Layers.LayerTestKit;

namespace TrainingService.Training.Tests.Layers;

/// <summary>Attention layers and the keras_hub embeddings against a hand-written scaled dot-product computation.</summary>
public class AttentionLayerTests
{
    private static Tensor Weight(LayerModule m, string name) => m.named_parameters().Single(p => p.name == name).parameter.detach();

    private static double[] Values(Tensor t) => t.to(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void MultiHeadAttention_CountsKerasParameters()
    {
        // Transformer block of keras.io's text classifier: embed 32, 2 heads, key_dim 32: 4 · (32·2·32) + 3 · (2·32) + 32.
        var mha = Parse("""{"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 32}""");
        Assert.Equal((4L * 32 * 2 * 32 + 3 * 2 * 32 + 32, 0L), mha.CountParameters([new Shape(200, 32), new Shape(200, 32)]));
        Assert.Equal(new Shape(200, 32), mha.OutputShapes([new Shape(200, 32), new Shape(200, 32)])[0]);
        // Different widths, value_dim and output_shape, no bias: q 4·3·2, k 5·3·2, v 6·3·7, out 3·7·9.
        var odd = Parse("""{"type": "MultiHeadAttention", "num_heads": 3, "key_dim": 2, "value_dim": 7, "output_shape": [9], "use_bias": false}""");
        Assert.Equal((4L * 3 * 2 + 5 * 3 * 2 + 6 * 3 * 7 + 3 * 7 * 9, 0L), odd.CountParameters([new Shape(10, 4), new Shape(8, 6), new Shape(8, 5)]));
        Assert.Equal(new Shape(10, 9), odd.OutputShapes([new Shape(10, 4), new Shape(8, 6), new Shape(8, 5)])[0]);
    }

    [Fact]
    public void MultiHeadAttention_EqualsAHandWrittenScaledDotProduct_PerHead()
    {
        const int tq = 3, ts = 4, d = 5, dv = 6, h = 2, k = 3, v = 2;
        var layer = Parse("""{"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3, "value_dim": 2, "bias_initializer": "glorot_uniform"}""");
        using var module = Build(layer, new Shape(tq, d), new Shape(ts, dv));
        var g = new Generator(9);
        var query = randn(1, tq, d, generator: g);
        var value = randn(1, ts, dv, generator: g);
        var y = Values(Run(module, [query, value])[0]);

        var (qk, qb, kk, kb, vk, vb, ok, ob) = (Values(Weight(module, "query_kernel")), Values(Weight(module, "query_bias")),
            Values(Weight(module, "key_kernel")), Values(Weight(module, "key_bias")), Values(Weight(module, "value_kernel")),
            Values(Weight(module, "value_bias")), Values(Weight(module, "output_kernel")), Values(Weight(module, "output_bias")));
        Assert.Equal([(long)d, h, k], Weight(module, "query_kernel").shape);
        Assert.Equal([(long)h, v, d], Weight(module, "output_kernel").shape);
        var q = Values(query);
        var s = Values(value);
        var expected = new double[tq * d];
        for (var t = 0; t < tq; t++)
        {
            for (var o = 0; o < d; o++) expected[t * d + o] = ob[o];
            for (var head = 0; head < h; head++)
            {
                // projections: x · kernel[:, head, :] + bias[head]
                double Proj(double[] x, int row, int width, double[] kernel, double[] bias, int units, int unit) =>
                    bias[head * units + unit] + Enumerable.Range(0, width).Sum(i => x[row * width + i] * kernel[(i * h + head) * units + unit]);
                var scores = new double[ts];
                for (var j = 0; j < ts; j++)
                    scores[j] = Enumerable.Range(0, k).Sum(u => Proj(q, t, d, qk, qb, k, u) * Proj(s, j, dv, kk, kb, k, u)) / Math.Sqrt(k);
                var max = scores.Max();
                var exp = scores.Select(x => Math.Exp(x - max)).ToArray();
                var p = exp.Select(x => x / exp.Sum()).ToArray();
                for (var u = 0; u < v; u++)
                {
                    var attended = Enumerable.Range(0, ts).Sum(j => p[j] * Proj(s, j, dv, vk, vb, v, u));
                    for (var o = 0; o < d; o++) expected[t * d + o] += attended * ok[(head * v + u) * d + o];
                }
            }
        }
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y[i], 5);
    }

    [Fact]
    public void Attention_AndAdditiveAttention_EqualHandComputedScores()
    {
        var q = new double[] { 1, 0, 0, 1 };          // 2 queries of width 2
        var val = new double[] { 1, 2, 3, 4, 5, 6 };  // 3 values of width 2 (also the keys)
        var query = tensor(q.Select(x => (float)x).ToArray(), [1, 2, 2]);
        var value = tensor(val.Select(x => (float)x).ToArray(), [1, 3, 2]);
        double[] Expected(Func<int, int, double> score)
        {
            var result = new double[4];
            for (var t = 0; t < 2; t++)
            {
                var e = Enumerable.Range(0, 3).Select(j => Math.Exp(score(t, j))).ToArray();
                for (var f = 0; f < 2; f++) result[t * 2 + f] = Enumerable.Range(0, 3).Sum(j => e[j] / e.Sum() * val[j * 2 + f]);
            }
            return result;
        }

        using var dot = Build(Parse("""{"type": "Attention"}"""), new Shape(2, 2), new Shape(3, 2));
        var y = Values(Run(dot, [query, value])[0]);
        var want = Expected((t, j) => q[t * 2] * val[j * 2] + q[t * 2 + 1] * val[j * 2 + 1]);
        for (var i = 0; i < 4; i++) Assert.Equal(want[i], y[i], 5);

        using var concat = Build(Parse("""{"type": "Attention", "score_mode": "concat"}"""), new Shape(2, 2), new Shape(3, 2));
        y = Values(Run(concat, [query, value])[0]);
        want = Expected((t, j) => Math.Tanh(q[t * 2] + val[j * 2]) + Math.Tanh(q[t * 2 + 1] + val[j * 2 + 1]));
        for (var i = 0; i < 4; i++) Assert.Equal(want[i], y[i], 5);

        using var additive = Build(Parse("""{"type": "AdditiveAttention"}"""), new Shape(2, 2), new Shape(3, 2));
        var scale = Values(Weight(additive, "scale"));
        y = Values(Run(additive, [query, value])[0]);
        want = Expected((t, j) => scale[0] * Math.Tanh(q[t * 2] + val[j * 2]) + scale[1] * Math.Tanh(q[t * 2 + 1] + val[j * 2 + 1]));
        for (var i = 0; i < 4; i++) Assert.Equal(want[i], y[i], 5);
        Assert.Equal((2L, 0L), Parse("""{"type": "AdditiveAttention"}""").CountParameters([new Shape(2, 2), new Shape(3, 2)]));
        Assert.Equal((2L, 0L), Parse("""{"type": "Attention", "use_scale": true, "score_mode": "concat"}""").CountParameters([new Shape(2, 2), new Shape(3, 2)]));
        Assert.Equal((0L, 0L), Parse("""{"type": "Attention"}""").CountParameters([new Shape(2, 2), new Shape(3, 2)]));
    }

    [Fact]
    public void Embeddings_AddTokenAndPositionRows()
    {
        var tpe = Parse("""{"type": "TokenAndPositionEmbedding", "vocabulary_size": 20000, "sequence_length": 200, "embedding_dim": 32}""");
        Assert.Equal(((20000L + 200) * 32, 0L), tpe.CountParameters([new Shape(200)]));
        Assert.Equal(new Shape(200, 32), tpe.OutputShapes([new Shape(200)])[0]);
        Assert.Equal((8L * 4, 0L), Parse("""{"type": "PositionEmbedding", "sequence_length": 8}""").CountParameters([new Shape(6, 4)]));

        var small = Parse("""{"type": "TokenAndPositionEmbedding", "vocabulary_size": 5, "sequence_length": 4, "embedding_dim": 2}""");
        using var module = Build(small, new Shape(3));
        var tokens = Weight(module, "token_embeddings");
        var positions = Weight(module, "position_embeddings");
        var y = Run(module, tensor(new long[] { 4, 0, 4 }, [1, 3]));
        var expected = stack([tokens[4] + positions[0], tokens[0] + positions[1], tokens[4] + positions[2]]).unsqueeze(0);
        Close(expected, y);

        using var pos = Build(Parse("""{"type": "PositionEmbedding", "sequence_length": 4}"""), new Shape(3, 2));
        Close(Weight(pos, "position_embeddings").narrow(0, 0, 3).unsqueeze(0).expand(2, 3, 2), Run(pos, zeros(2, 3, 2)));
    }
}
