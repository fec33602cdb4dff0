using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Keras;

/// <summary>One weight of a name-keyed file: its name as the file gives it, its declared shape, and how to read its values
/// (called only after the shape has been counted against the model).</summary>
internal sealed record WeightEntry(string Name, long[] Shape, Func<float[]> Read);

/// <summary>
/// Keras 3 weights (<c>model.weights.h5</c>) to the engine's state_dict. Keras keeps each layer's variables at
/// <c>layers/&lt;class in snake case, numbered per class&gt;/vars/0, 1, …</c> (RNN layers one level down in
/// <c>cell/</c>, Bidirectional in <c>forward_layer/</c> and <c>backward_layer/</c>, TimeDistributed in <c>layer/</c>),
/// in the order the layer creates them, in Keras's layouts. Conversions: kernels (…, in, out) become torch's
/// (out, in, …); LSTM's single bias goes to <c>bias_ih</c> with <c>bias_hh</c> zero; GRU's gate blocks [z|r|h] are
/// reordered to torch's [r|z|n] in the kernel, the recurrent kernel and the bias ((2, 3u) with reset_after);
/// Normalization's mean and variance, shaped as its kept axes, become the engine's broadcastable (1, …) buffers, and its
/// integer count is read and dropped.
/// </summary>
internal static class KerasWeights
{
    public static Dictionary<string, Tensor>? Read(IH5Group h5, KerasConversion conversion, ModelDefinition model, string path, List<SpecError> errors)
    {
        var origins = conversion.Layers.ToDictionary(o => o.NativeName, StringComparer.Ordinal);
        // A compressed HDF5 dataset can declare gigabytes in a few bytes, so declared shapes are counted before any
        // dataset is read, against twice the model's parameters (plus a little): a file whose shapes are merely wrong is
        // still read, and each mismatch reported at its layer with both shapes; a bomb is refused unread.
        var budget = new ElementBudget(2 * TrainingPlan.Summarize(model).TotalParameters + 65_536);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var legacy = h5.LinkExists("_layer_checkpoint_dependencies");   // .keras files written by Keras 2.13–2.15
        foreach (var node in model.Layers)
        {
            var origin = origins[node.Name];
            var group = legacy ? origin.WeightsPath.Replace("layers/", "_layer_checkpoint_dependencies/", StringComparison.Ordinal) : origin.WeightsPath;
            var reader = new Reader(h5, path, origin.Path, errors, budget);
            Map(node.Layer, group, node.Name + ".", node.InputShapes, reader, state);
        }
        return errors.Count > 0 ? null : state;
    }

    /// <summary>
    /// Weights kept by layer name, each layer's in the order Keras lists them (<c>layer.weights</c>: trainable first):
    /// legacy HDF5 (<c>weight_names</c> of each layer group) and TF.js (<c>weightsManifest</c>). Declared shapes are
    /// counted against the model's parameters before anything is read, as for Keras 3 files. A layer of the outer model
    /// takes its group's weights in order. A layer inside a nested model takes, from the nested model's group, the weights
    /// whose scope names it (<see cref="KerasLayerOrigin.NestedScope"/>), preferring those that also name the models it
    /// sits in; only when no weight's name says where it belongs are they taken in order. With
    /// <paramref name="searchAllGroups"/> (TF.js, whose groups are only the names' first segments), a nested layer whose
    /// weights are not under its model's name is looked for among all weights.
    /// </summary>
    public static Dictionary<string, Tensor>? ReadOrdered(IReadOnlyDictionary<string, List<WeightEntry>> groups, KerasConversion conversion, ModelDefinition model,
        string path, List<SpecError> errors, bool searchAllGroups = false)
    {
        var origins = conversion.Layers.ToDictionary(o => o.NativeName, StringComparer.Ordinal);
        var budget = new ElementBudget(2 * TrainingPlan.Summarize(model).TotalParameters + 65_536);
        var declared = groups.Values.SelectMany(g => g).Sum(e => e.Shape.Aggregate(1.0, (p, d) => p * Math.Max(d, 0)));
        if (declared > budget.Left)
        {
            errors.Add(new SpecError(path, $"declares {declared} weight values; this model has {TrainingPlan.Summarize(model).TotalParameters} parameters; not read"));
            return null;
        }
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var used = new HashSet<WeightEntry>(ReferenceEqualityComparer.Instance);
        foreach (var node in model.Layers)
        {
            var origin = origins[node.Name];
            var group = origin.LegacyGroup.Length > 0 ? origin.LegacyGroup : node.Name;
            var candidates = Candidates(groups, group, origin.NestedScope, used, searchAllGroups);
            var reader = new OrderedReader(candidates, group, used, path, origin.Path, errors, budget);
            Map(node.Layer, group, node.Name + ".", node.InputShapes, reader, state);
        }
        foreach (var (group, entries) in groups)
        {
            var left = entries.Where(e => !used.Contains(e)).Select(e => e.Name).ToList();
            if (left.Count > 0)
                errors.Add(new SpecError(path, $"weights of \"{group}\" that no layer of the model takes: {string.Join(", ", left)}"));
        }
        return errors.Count > 0 ? null : state;
    }

    /// <summary>The weights a layer may take, in file order (null: its group is not in the file).</summary>
    private static List<WeightEntry>? Candidates(IReadOnlyDictionary<string, List<WeightEntry>> groups, string group, IReadOnlyList<string> scope,
        HashSet<WeightEntry> used, bool searchAllGroups)
    {
        var own = groups.GetValueOrDefault(group);
        if (scope.Count == 0) return own;
        var named = Named(own ?? [], scope, used);
        if (named.Count == 0 && searchAllGroups) named = Named(groups.Values.SelectMany(g => g), scope, used);
        return named.Count > 0 ? named : own;
    }

    /// <summary>The unused weights whose scope (the name's segments before the variable, <c>:0</c> dropped) holds the
    /// layer's name, keeping those that also name the most of the models around it.</summary>
    private static List<WeightEntry> Named(IEnumerable<WeightEntry> entries, IReadOnlyList<string> scope, HashSet<WeightEntry> used)
    {
        var scored = new List<(WeightEntry Entry, int Score)>();
        foreach (var e in entries)
        {
            if (used.Contains(e)) continue;
            var segments = e.Name.Split('/')[..^1];
            if (!segments.Contains(scope[^1], StringComparer.Ordinal)) continue;
            scored.Add((e, scope.Count(s => segments.Contains(s, StringComparer.Ordinal))));
        }
        if (scored.Count == 0) return [];
        var best = scored.Max(x => x.Score);
        return scored.Where(x => x.Score == best).Select(x => x.Entry).ToList();
    }

    private static void Map(Layer layer, string group, string prefix, Shape[] inputs, IVariables r, Dictionary<string, Tensor> state)
    {
        switch (layer)
        {
            case Dense d:
            {
                var v = r.Vars(group, d.UseBias ? 2 : 1);
                if (v is null) return;
                state[prefix + "weight"] = v[0].t().contiguous();
                if (d.UseBias) state[prefix + "bias"] = v[1];
                break;
            }
            case BaseSeparableConv sc:
            {
                var v = r.Vars(group, sc.UseBias ? 3 : 2);
                if (v is null) return;
                state[prefix + "depthwise_weight"] = ChannelsFirstKernel(DepthwiseAsGrouped(v[0]));
                state[prefix + "pointwise_weight"] = ChannelsFirstKernel(v[1]);
                if (sc.UseBias) state[prefix + "bias"] = v[2];
                break;
            }
            case BaseDepthwiseConv dc:
            {
                var v = r.Vars(group, dc.UseBias ? 2 : 1);
                if (v is null) return;
                state[prefix + "weight"] = ChannelsFirstKernel(DepthwiseAsGrouped(v[0]));
                if (dc.UseBias) state[prefix + "bias"] = v[1];
                break;
            }
            case BaseConv c:
            {
                var v = r.Vars(group, c.UseBias ? 2 : 1);
                if (v is null) return;
                state[prefix + "weight"] = ChannelsFirstKernel(v[0]);
                if (c.UseBias) state[prefix + "bias"] = v[1];
                break;
            }
            case Embedding:
            {
                var v = r.Vars(group, 1);
                if (v is not null) state[prefix + "embeddings"] = v[0];
                break;
            }
            case BatchNormalization bn:
            {
                var names = new List<string>();
                if (bn.Scale) names.Add("gamma");
                if (bn.Center) names.Add("beta");
                names.AddRange(["moving_mean", "moving_variance"]);
                var v = r.Vars(group, names.Count);
                if (v is null) return;
                for (var i = 0; i < names.Count; i++) state[prefix + names[i]] = v[i];
                break;
            }
            case LayerNormalization ln:
            {
                var names = new List<string>();
                if (ln.Scale || ln.RmsScaling) names.Add("gamma");
                if (ln.Center && !ln.RmsScaling) names.Add("beta");
                var v = r.Vars(group, names.Count);
                if (v is null) return;
                for (var i = 0; i < names.Count; i++) state[prefix + names[i]] = v[i];
                break;
            }
            case PReLU:
            {
                var v = r.Vars(group, 1);
                if (v is not null) state[prefix + "alpha"] = v[0];
                break;
            }
            case GroupNormalization gn:
            {
                var names = new List<string>();
                if (gn.Scale) names.Add("gamma");
                if (gn.Center) names.Add("beta");
                var v = r.Vars(group, names.Count);
                if (v is null) return;
                for (var i = 0; i < names.Count; i++) state[prefix + names[i]] = v[i];
                break;
            }
            case Normalization n:
            {
                // Keras creates mean, variance and an integer count (vars 0, 1, 2) only for statistics it adapts; statistics
                // given in the config are constants, and the engine takes them from the same config.
                if (n.HasConfigStatistics)
                {
                    if (r.Vars(group, 0) is null) return;
                    (state[prefix + "mean"], state[prefix + "variance"]) = n.InitialStatistics(inputs[0]);
                    break;
                }
                var v = r.Vars(group, 3);
                if (v is null) return;
                // Keras's (kept axes…) as the engine's broadcastable (1, …): the same values in the same order. A wrong size
                // is left as it is, for the shape check to report.
                long[] engine = [1, .. n.StatShape(inputs[0])];
                for (var i = 0; i < 2; i++)
                    state[prefix + (i == 0 ? "mean" : "variance")] = v[i].numel() == engine.Aggregate(1L, (a, b) => a * b) ? v[i].reshape(engine) : v[i];
                v[2].Dispose();   // count: Keras 3 never updates it; tf-keras's running count matters only to a later adapt
                break;
            }
            case PositionEmbedding:
            {
                var v = r.Vars(group, 1);
                if (v is not null) state[prefix + "position_embeddings"] = v[0];
                break;
            }
            case TokenAndPositionEmbedding:
            {
                var t = r.Vars(group + "/token_embedding", 1);
                var p = r.Vars(group + "/position_embedding", 1);
                if (t is null || p is null) return;
                state[prefix + "token_embeddings"] = t[0];
                state[prefix + "position_embeddings"] = p[0];
                break;
            }
            case MultiHeadAttention mha:
                foreach (var part in KerasVariables.MultiHeadAttentionParts)
                {
                    var v = r.Vars($"{group}/_{part}_dense", mha.UseBias ? 2 : 1);
                    if (v is null) return;
                    state[$"{prefix}{part}_kernel"] = v[0];
                    if (mha.UseBias) state[$"{prefix}{part}_bias"] = v[1];
                }
                break;
            case Attention a:
            {
                var names = new List<string>();
                if (a.UseScale) names.Add("scale");
                if (a.ScoreMode == "concat") names.Add("concat_score_weight");
                if (names.Count == 0) return;
                var v = r.Vars(group, names.Count);
                if (v is null) return;
                for (var i = 0; i < names.Count; i++) state[prefix + names[i]] = v[i].reshape(1);
                break;
            }
            case AdditiveAttention { UseScale: true }:
            {
                var v = r.Vars(group, 1);
                if (v is not null) state[prefix + "scale"] = v[0];
                break;
            }
            case LSTM or GRU or SimpleRNN:
                Recurrent((RecurrentConfig)layer, group + "/cell", prefix, r, state);
                break;
            case Bidirectional b:
            {
                var inner = (RecurrentConfig)b.Wrapped.Layer;
                var backward = b.BackwardLayer?.Layer as RecurrentConfig ?? inner;
                Recurrent(inner, group + "/forward_layer/cell", prefix + "forward_layer.", r, state);
                Recurrent(backward, group + "/backward_layer/cell", prefix + "backward_layer.", r, state);
                break;
            }
            case TimeDistributed t:
                Map(t.Wrapped.Layer, group + "/layer", prefix + "layer.", [new Shape(inputs[0].Dims[1..])], r, state);
                break;
        }
    }

    private static void Recurrent(RecurrentConfig c, string group, string prefix, IVariables r, Dictionary<string, Tensor> state)
    {
        var v = r.Vars(group, c.UseBias ? 3 : 2);
        if (v is null) return;
        var u = c.Units;
        var module = c switch { LSTM => "lstm.", GRU => "gru.", _ => "rnn." };
        var p = prefix + module;
        Func<Tensor, Tensor> order = c is GRU ? rows => SwapFirstTwoGates(rows, u) : rows => rows;
        state[p + "weight_ih_l0"] = order(v[0].t()).contiguous();
        state[p + "weight_hh_l0"] = order(v[1].t()).contiguous();
        if (!c.UseBias) return;
        if (c is GRU { ResetAfter: true })
        {
            state[p + "bias_ih_l0"] = order(v[2][0]).contiguous();
            state[p + "bias_hh_l0"] = order(v[2][1]).contiguous();
        }
        else
        {
            state[p + "bias_ih_l0"] = order(v[2]).contiguous();
            state[p + "bias_hh_l0"] = zeros_like(v[2]);
        }
    }

    /// <summary>Keras's [a|b|c] gate blocks (rows of the transposed kernel) as [b|a|c]: GRU's [z|r|h] to torch's [r|z|n].</summary>
    private static Tensor SwapFirstTwoGates(Tensor rows, long units) =>
        cat([rows.narrow(0, units, units), rows.narrow(0, 0, units), rows.narrow(0, 2 * units, rows.shape[0] - 2 * units)]);

    /// <summary>A depthwise kernel (k…, in, m) as a grouped one (k…, 1, in·m): output channel c·m + j, as TensorFlow
    /// orders them. A file's kernel of another rank is left as it is, for the shape check to report.</summary>
    private static Tensor DepthwiseAsGrouped(Tensor kernel) =>
        kernel.dim() < 3 ? kernel : kernel.reshape([.. kernel.shape[..^2], 1, kernel.shape[^2] * kernel.shape[^1]]);

    /// <summary>Keras's (spatial…, in, out) kernel as torch's (out, in, spatial…); Conv2DTranspose's (kh, kw, out, in)
    /// becomes (in, out, kh, kw), which is what torch's transposed convolution takes.</summary>
    private static Tensor ChannelsFirstKernel(Tensor kernel)
    {
        var rank = (int)kernel.dim();
        long[] order = [rank - 1, rank - 2, .. Enumerable.Range(0, rank - 2).Select(i => (long)i)];
        return kernel.permute(order).contiguous();
    }

    /// <summary>Values left to read, spent as variables are read.</summary>
    private sealed class ElementBudget(long total)
    {
        public long Left { get; private set; } = total;

        public bool TrySpend(long elements)
        {
            if (elements > Left) return false;
            Left -= elements;
            return true;
        }
    }

    /// <summary>A layer's variables, <paramref name="count"/> at a time, in Keras's order (null after reporting why not).</summary>
    private interface IVariables
    {
        Tensor[]? Vars(string group, int count);
    }

    /// <summary>The next unused variables among a layer's candidates in a name-keyed file (legacy HDF5, TF.js).</summary>
    private sealed class OrderedReader(List<WeightEntry>? entries, string group, HashSet<WeightEntry> used, string filePath, string layerPath,
        List<SpecError> errors, ElementBudget budget) : IVariables
    {
        public Tensor[]? Vars(string scope, int count)
        {
            if (count == 0) return [];
            var next = entries?.Where(e => !used.Contains(e)).Take(count).ToList();
            if (next is null || next.Count < count)
            {
                errors.Add(new SpecError(layerPath, $"{filePath} has {(next is null ? "no weights" : $"{next.Count} weight(s) left")} for layer \"{group}\"; it needs {count} more"));
                return null;
            }
            var result = new Tensor[count];
            for (var i = 0; i < count; i++)
            {
                var e = next[i];
                used.Add(e);
                var elements = e.Shape.Aggregate(1L, (p, d) => p * d);
                if (!budget.TrySpend(elements))
                {
                    errors.Add(new SpecError(layerPath, $"{filePath}: {e.Name} declares shape [{string.Join(", ", e.Shape)}]: more values than this model holds; not read"));
                    return null;
                }
                float[] data;
                try { data = e.Read(); }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    errors.Add(new SpecError(layerPath, $"{filePath}: {e.Name} cannot be read as float32 ({ex.Message})"));
                    return null;
                }
                result[i] = tensor(data, e.Shape);
            }
            return result;
        }
    }

    /// <summary>Reads a layer's numbered variables, reporting missing groups and unexpected counts at the layer's path.</summary>
    private sealed class Reader(IH5Group h5, string filePath, string layerPath, List<SpecError> errors, ElementBudget budget) : IVariables
    {
        public Tensor[]? Vars(string group, int count)
        {
            var varsPath = group + "/vars";
            if (!h5.LinkExists(varsPath))
            {
                errors.Add(new SpecError(layerPath, $"{filePath} has no weights for this layer (expected the group {varsPath})"));
                return null;
            }
            var vars = h5.Group(varsPath);
            var names = vars.Children().Select(c => c.Name).Where(n => int.TryParse(n, out _)).OrderBy(int.Parse).ToList();
            if (names.Count != count)
            {
                errors.Add(new SpecError(layerPath, $"{filePath}:{varsPath} holds {names.Count} variable(s); this layer has {count}"));
                return null;
            }
            var result = new Tensor[count];
            for (var i = 0; i < count; i++)
            {
                var dataset = vars.Dataset(names[i]);
                var dims = dataset.Space.Dimensions.Select(d => (long)d).ToArray();
                var elements = dims.Aggregate(1.0, (p, d) => p * d);
                if (dims.Any(d => d < 0) || elements > budget.Left || !budget.TrySpend((long)elements))
                {
                    errors.Add(new SpecError(layerPath, $"{filePath}:{varsPath}/{names[i]} declares shape [{string.Join(", ", dims)}]: " +
                                                        $"more values than the file may still hold for this model ({budget.Left}); not read"));
                    return null;
                }
                float[] data;
                try { data = KerasHdf5.ReadFloats(dataset); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    errors.Add(new SpecError(layerPath, $"{filePath}:{varsPath}/{names[i]} is not float32 data ({e.Message})"));
                    return null;
                }
                result[i] = tensor(data, dims);
            }
            return result;
        }
    }
}
