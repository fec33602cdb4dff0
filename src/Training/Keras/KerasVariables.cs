using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Keras;

/// <summary>One Keras variable of a layer, in Keras's layout: <paramref name="Layer"/> is the native layer name,
/// <paramref name="Scope"/> where inside the layer it lives (<c>cell</c>, <c>forward_layer/cell</c>, <c>layer</c>, or
/// empty), <paramref name="Name"/> Keras's variable name (<c>kernel</c>, <c>recurrent_kernel</c>, <c>moving_mean</c>).</summary>
public sealed record KerasVariable(string Layer, string Scope, string Name, float[] Data, long[] Shape)
{
    /// <summary>float32, or int64 for Normalization's <c>count</c> (its values are whole numbers in <see cref="Data"/>).</summary>
    public string Dtype { get; init; } = "float32";
}

/// <summary>
/// The engine's state_dict as Keras variables: the inverse of <see cref="KerasWeights"/>. Per layer, in the order
/// Keras creates them (trainable first, then non-trainable, as <c>Layer.save_own_variables</c> numbers them):
/// kernels back from torch's (out, in, …) to Keras's (…, in, out), LSTM's two biases summed into Keras's one, GRU's
/// [r|z|n] gate blocks back to [z|r|h] and its two biases stacked as (2, 3u). Every exporter (.keras, TF.js, ONNX)
/// starts from this list, so each format reads weights in the one layout Keras documents.
/// </summary>
public static class KerasVariables
{
    /// <summary>Throws <see cref="SpecException"/> naming a layer whose weights this mapping does not know.</summary>
    public static IReadOnlyList<KerasVariable> FromState(ModelDefinition model, IReadOnlyDictionary<string, Tensor> state)
    {
        var result = new List<KerasVariable>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var errors = new List<SpecError>();
        using var scope = NewDisposeScope();
        foreach (var node in model.Layers)
        {
            var w = new Writer(node.Name, state, used, result);
            Map(node.Layer, "", node.Name + ".", node.InputShapes, w);
            foreach (var key in state.Keys.Where(k => k.StartsWith(node.Name + ".", StringComparison.Ordinal) && !used.Contains(k)))
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}' ({LayerRegistry.NameOf(node.Layer.GetType())}) has a weight '{key}' that cannot be written in Keras's layout"));
        }
        if (errors.Count > 0) throw new SpecException(errors);
        return result;
    }

    private static void Map(Layer layer, string scope, string prefix, Shape[] inputs, Writer w)
    {
        switch (layer)
        {
            case Dense d:
                w.Add(scope, "kernel", w.Get(prefix + "weight").t());
                if (d.UseBias) w.Add(scope, "bias", w.Get(prefix + "bias"));
                break;
            case BaseConv:
                w.Add(scope, "kernel", ChannelsLastKernel(w.Get(prefix + "weight")));
                if (w.Has(prefix + "bias")) w.Add(scope, "bias", w.Get(prefix + "bias"));
                break;
            case BaseSeparableConv sc:
                w.Add(scope, "depthwise_kernel", DepthwiseKernel(w.Get(prefix + "depthwise_weight"), sc.DepthMultiplier));
                w.Add(scope, "pointwise_kernel", ChannelsLastKernel(w.Get(prefix + "pointwise_weight")));
                if (w.Has(prefix + "bias")) w.Add(scope, "bias", w.Get(prefix + "bias"));
                break;
            case BaseDepthwiseConv dc:
                // Keras 3 names it "kernel", Keras 2 and TF.js "depthwise_kernel"; .keras files number variables, TF.js
                // matches names.
                w.Add(scope, "depthwise_kernel", DepthwiseKernel(w.Get(prefix + "weight"), dc.DepthMultiplier));
                if (w.Has(prefix + "bias")) w.Add(scope, "bias", w.Get(prefix + "bias"));
                break;
            case Embedding:
                w.Add(scope, "embeddings", w.Get(prefix + "embeddings"));
                break;
            case BatchNormalization or LayerNormalization:
                foreach (var name in new[] { "gamma", "beta", "moving_mean", "moving_variance" })
                    if (w.Has(prefix + name)) w.Add(scope, name, w.Get(prefix + name));
                break;
            case RecurrentConfig r:
                Recurrent(r, Join(scope, "cell"), prefix, w);
                break;
            case PReLU:
                w.Add(scope, "alpha", w.Get(prefix + "alpha"));
                break;
            case GroupNormalization:
                foreach (var name in new[] { "gamma", "beta" })
                    if (w.Has(prefix + name)) w.Add(scope, name, w.Get(prefix + name));
                break;
            case PositionEmbedding:
                w.Add(scope, "embeddings", w.Get(prefix + "position_embeddings"));
                break;
            case Normalization n:
            {
                // Keras builds mean, variance (the kept axes' sizes) and an integer count only when it adapts; statistics
                // given in the config are constants, not variables, so nothing is written for them.
                var mean = w.Get(prefix + "mean");
                var variance = w.Get(prefix + "variance");
                if (n.HasConfigStatistics) break;
                var shape = n.KerasStatisticsShape(inputs[0]);
                w.Add(scope, "mean", mean.reshape(shape));
                w.Add(scope, "variance", variance.reshape(shape));
                // Keras 3's adapt never updates count ("for backwards compatibility with older saved models"): it stays 0.
                w.Add(scope, "count", zeros([], ScalarType.Int64));
                break;
            }
            case TokenAndPositionEmbedding:
                // keras_hub keeps them in its sublayers token_embedding and position_embedding.
                w.Add(Join(scope, "token_embedding"), "embeddings", w.Get(prefix + "token_embeddings"));
                w.Add(Join(scope, "position_embedding"), "embeddings", w.Get(prefix + "position_embeddings"));
                break;
            case MultiHeadAttention:
                // Keras's EinsumDense sublayers _query_dense … _output_dense, kernels already in Keras's (in, heads, dim) layout.
                foreach (var part in MultiHeadAttentionParts)
                {
                    w.Add(Join(scope, $"_{part}_dense"), "kernel", w.Get($"{prefix}{part}_kernel"));
                    if (w.Has($"{prefix}{part}_bias")) w.Add(Join(scope, $"_{part}_dense"), "bias", w.Get($"{prefix}{part}_bias"));
                }
                break;
            case Attention:
                // Keras's scale and concat_score_weight are scalars.
                foreach (var name in new[] { "scale", "concat_score_weight" })
                    if (w.Has(prefix + name)) w.Add(scope, name, w.Get(prefix + name).reshape([]));
                break;
            case AdditiveAttention:
                if (w.Has(prefix + "scale")) w.Add(scope, "scale", w.Get(prefix + "scale"));
                break;
            case Bidirectional b:
                Recurrent((RecurrentConfig)b.Wrapped.Layer, Join(scope, "forward_layer/cell"), prefix + "forward_layer.", w);
                Recurrent(b.BackwardLayer?.Layer as RecurrentConfig ?? (RecurrentConfig)b.Wrapped.Layer, Join(scope, "backward_layer/cell"), prefix + "backward_layer.", w);
                break;
            case TimeDistributed t:
                Map(t.Wrapped.Layer, Join(scope, "layer"), prefix + "layer.", [new Shape(inputs[0].Dims[1..])], w);
                break;
        }
    }

    internal static readonly string[] MultiHeadAttentionParts = ["query", "key", "value", "output"];

    private static void Recurrent(RecurrentConfig c, string scope, string prefix, Writer w)
    {
        var p = prefix + c switch { LSTM => "lstm.", GRU => "gru.", _ => "rnn." };
        var u = c.Units;
        Func<Tensor, Tensor> order = c is GRU ? rows => SwapFirstTwoGates(rows, u) : rows => rows;
        w.Add(scope, "kernel", order(w.Get(p + "weight_ih_l0")).t());
        w.Add(scope, "recurrent_kernel", order(w.Get(p + "weight_hh_l0")).t());
        if (!c.UseBias) return;
        var bih = order(w.Get(p + "bias_ih_l0"));
        var bhh = order(w.Get(p + "bias_hh_l0"));
        // LSTM and SimpleRNN add the two torch biases; Keras has one. GRU with reset_after keeps them apart;
        // without it the engine keeps bias_hh at zero and Keras's single bias is bias_ih.
        var bias = c is GRU g ? (g.ResetAfter ? stack([bih, bhh]) : bih) : bih + bhh;
        w.Add(scope, "bias", bias);
    }

    /// <summary>Swapping the first two gate blocks is its own inverse: torch's [r|z|n] back to Keras's [z|r|h].</summary>
    private static Tensor SwapFirstTwoGates(Tensor rows, long units) =>
        cat([rows.narrow(0, units, units), rows.narrow(0, 0, units), rows.narrow(0, 2 * units, rows.shape[0] - 2 * units)]);

    /// <summary>torch's (out, in, spatial…) as Keras's (spatial…, in, out); Conv2DTranspose's (in, out, kh, kw) becomes
    /// Keras's (kh, kw, out, in) by the same permutation.</summary>
    private static Tensor ChannelsLastKernel(Tensor kernel)
    {
        var rank = (int)kernel.dim();
        long[] order = [.. Enumerable.Range(2, rank - 2).Select(i => (long)i), 1, 0];
        return kernel.permute(order);
    }

    /// <summary>torch's grouped (in·m, 1, k…) as Keras's depthwise (k…, in, m).</summary>
    private static Tensor DepthwiseKernel(Tensor kernel, int multiplier)
    {
        var k = ChannelsLastKernel(kernel);   // (k…, 1, in·m)
        return k.reshape([.. k.shape[..^2], k.shape[^1] / multiplier, multiplier]);
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : $"{a}/{b}";

    private sealed class Writer(string layer, IReadOnlyDictionary<string, Tensor> state, HashSet<string> used, List<KerasVariable> result)
    {
        public bool Has(string key) => state.ContainsKey(key);

        public Tensor Get(string key)
        {
            used.Add(key);
            return state[key];
        }

        public void Add(string scope, string name, Tensor value)
        {
            using var t = value.detach().cpu().to_type(ScalarType.Float32).contiguous();
            result.Add(new KerasVariable(layer, scope, name, t.data<float>().ToArray(), t.shape) { Dtype = value.is_floating_point() ? "float32" : "int64" });
        }
    }
}
