using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Keras;

/// <summary>
/// A trained model as a TensorFlow.js layers model: a zip of <c>model.json</c> (<c>format: "layers-model"</c>, a
/// <c>modelTopology</c> in the Keras 2 form TF.js reads, a <c>weightsManifest</c>) and its binary shards of float32
/// little-endian values (4 MiB each, as the TF.js converter splits them). Weights are named as TF.js names them
/// (<c>dense/kernel</c>, an RNN's variables directly under the layer, Bidirectional's under
/// <c>forward_&lt;inner&gt;</c>/<c>backward_&lt;inner&gt;</c>). <paramref name="metadata"/> goes into
/// <c>userDefinedMetadata.training_service</c> (<c>model.getUserDefinedMetadata()</c>).
/// </summary>
public static class TfjsExporter
{
    public const string ModelEntry = "model.json";
    private const int ShardBytes = 4 * 1024 * 1024;

    public static byte[] Export(ModelDefinition model, IReadOnlyDictionary<string, Tensor> state, string name, JsonObject? metadata = null)
    {
        model = WithoutAugmentation(model, out var removed);
        if (removed.Count > 0)
        {
            metadata = (JsonObject?)metadata?.DeepClone() ?? new JsonObject();
            metadata["removed_augmentation_layers"] = new JsonArray(removed.Select(r => (JsonNode)r).ToArray());
        }
        var errors = new List<SpecError>();
        var given = state;
        (model, state) = NormalizationAsBatchNormalization(model, state, errors, out var rewritten);
        if (rewritten.Count > 0)
        {
            metadata = (JsonObject?)metadata?.DeepClone() ?? new JsonObject();
            metadata["normalization_as_batch_normalization"] = new JsonArray(rewritten.Select(r => (JsonNode)r).ToArray());
        }
        foreach (var node in model.Layers)
        {
            // TF.js 4.x throws "GRUCell does not support reset_after parameter set to true" (tfjs-layers recurrent.ts).
            if (Inner(node.Layer) is GRU { ResetAfter: true })
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js has no GRU with reset_after=true (the Keras default); export as keras or onnx, or train with reset_after=false"));
            if (node.Layer is TimeDistributed)
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TimeDistributed is not exported to TensorFlow.js; export as keras"));
            // A Normalization still here could not become a BatchNormalization, and has been reported.
            else if (!TfjsLayers.Contains(LayerRegistry.NameOf(node.Layer.GetType())) && node.Layer is not Normalization)
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js 4.x has no {LayerRegistry.NameOf(node.Layer.GetType())} layer; export as keras or onnx"));
            else if (node.Layer is Resizing)
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js's Resizing aligns corners and ignores crop_to_aspect_ratio (Keras uses half-pixel centres); export as keras or onnx"));
            else if (node.Layer is CenterCrop)
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': tfjs-layers 4.22's CenterCrop writes its output size into its input's shape (the model then refuses its own input) and offsets a one-pixel margin differently; export as keras or onnx"));
            else if (node.Layer is BaseConv { Groups: > 1 })
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js convolutions have no groups; export as keras or onnx"));
        }
        if (errors.Count > 0) throw new SpecException(errors);

        var topology = Keras2Form(KerasExporter.Export(model, name));
        topology["keras_version"] = "tfjs-layers 4.22.0";
        topology["backend"] = "tensor_flow.js";
        IReadOnlyList<KerasVariable> variables;
        try { variables = KerasVariables.FromState(model, state); }
        finally
        {
            foreach (var (key, t) in state)
                if (!given.TryGetValue(key, out var g) || !ReferenceEquals(g, t)) t.Dispose();   // the rewritten Normalization's
        }
        var specs = new JsonArray();
        using var data = new MemoryStream();
        foreach (var v in variables)
        {
            var node = model.Layers.First(l => l.Name == v.Layer);
            var integer = v.Dtype != "float32";
            specs.Add(new JsonObject
            {
                ["name"] = $"{v.Layer}/{TfjsScope(node.Layer, v.Scope)}{v.Name}",
                ["shape"] = new JsonArray(v.Shape.Select(d => (JsonNode)d).ToArray()),
                ["dtype"] = integer ? "int32" : "float32",   // the converter writes int64 variables as int32
            });
            // little-endian on every platform .NET runs here
            if (integer) data.Write(MemoryMarshal.AsBytes(v.Data.Select(f => (int)f).ToArray().AsSpan()));
            else data.Write(MemoryMarshal.AsBytes(v.Data.AsSpan()));
        }
        var bytes = data.ToArray();
        var shardCount = Math.Max(1, (bytes.Length + ShardBytes - 1) / ShardBytes);
        var paths = Enumerable.Range(1, shardCount).Select(i => $"group1-shard{i}of{shardCount}.bin").ToArray();
        var document = new JsonObject
        {
            ["format"] = "layers-model",
            ["generatedBy"] = "TrainingService",
            ["convertedBy"] = null,
            ["modelTopology"] = topology,
            ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = new JsonArray(paths.Select(p => (JsonNode)p).ToArray()), ["weights"] = specs }),
        };
        if (metadata is not null) document["userDefinedMetadata"] = new JsonObject { ["training_service"] = metadata.DeepClone() };

        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(zip.CreateEntry(ModelEntry).Open())) w.Write(document.ToJsonString());
            for (var i = 0; i < shardCount; i++)
            {
                using var s = zip.CreateEntry(paths[i]).Open();
                var start = i * ShardBytes;
                s.Write(bytes, start, Math.Min(ShardBytes, bytes.Length - start));
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// The model without its random augmentation layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
    /// RandomContrast): tfjs-layers has none of them, and in inference each passes its input through unchanged, so the
    /// exported model predicts the same. Readers of a removed layer read its input instead.
    /// </summary>
    internal static ModelDefinition WithoutAugmentation(ModelDefinition model, out List<string> removed)
    {
        var replaced = new Dictionary<string, TensorRef>(StringComparer.Ordinal);
        removed = [];
        foreach (var node in model.Layers.Where(n => n.Layer is RandomFlip or BaseRandomAffine or RandomContrast))
        {
            replaced[node.Name] = node.Inputs[0];
            removed.Add(node.Name);
        }
        if (removed.Count == 0) return model;
        TensorRef Resolve(TensorRef r) => replaced.TryGetValue(r.Node, out var to) ? Resolve(to) : r;
        var layers = model.Layers.Where(n => !replaced.ContainsKey(n.Name)).Select(n => n with { Inputs = n.Inputs.Select(Resolve).ToArray() }).ToArray();
        return model with { Layers = layers, Outputs = model.Outputs.Select(Resolve).ToArray() };
    }

    /// <summary>
    /// tfjs-layers 4.22 registers no Normalization layer (its preprocessing layers are CategoryEncoding, CenterCrop,
    /// Rescaling, Resizing, RandomHeight and RandomWidth), so a Normalization over one axis (or over everything, given a
    /// known last axis) is written as the BatchNormalization that computes the same thing in inference:
    /// moving_variance 1 and gamma √(1 + ε)/σ with σ = max(√variance, 1e-7) give (x − mean)/σ; inverted, moving_mean 0,
    /// gamma σ·√(1 + ε) and beta = mean give x·σ + mean. Several kept axes cannot be one BatchNormalization: refused.
    /// </summary>
    private static (ModelDefinition, IReadOnlyDictionary<string, Tensor>) NormalizationAsBatchNormalization(ModelDefinition model,
        IReadOnlyDictionary<string, Tensor> state, List<SpecError> errors, out List<string> rewritten)
    {
        rewritten = [];
        if (!model.Layers.Any(n => n.Layer is Normalization)) return (model, state);
        const double epsilon = 1e-3;
        var newState = new Dictionary<string, Tensor>(state, StringComparer.Ordinal);
        var layers = new List<LayerNode>();
        foreach (var node in model.Layers)
        {
            if (node.Layer is not Normalization nz)
            {
                layers.Add(node);
                continue;
            }
            var input = node.InputShapes[0];
            var kept = nz.KeptAxes(input);
            var axis = kept.Length == 1 ? kept[0] : input.Rank - 1;
            if (kept.Length > 1 || input[axis] < 0)
            {
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js has no Normalization layer, and one over " +
                    (kept.Length > 1 ? "several axes" : "all axes with an unknown last axis") + " is not a BatchNormalization; export as keras or onnx"));
                layers.Add(node);
                continue;
            }
            var channels = input[axis];
            using var scope = NewDisposeScope();
            var mean = state[node.Name + ".mean"].detach().cpu().to_type(ScalarType.Float32).flatten().expand(channels).contiguous();
            var sigma = state[node.Name + ".variance"].detach().cpu().to_type(ScalarType.Float32).sqrt().clamp_min(1e-7).flatten().expand(channels).contiguous();
            var root = Math.Sqrt(1 + epsilon);
            var (gamma, beta, movingMean) = nz.Invert ? (sigma * root, mean, zeros(channels)) : (root / sigma, zeros(channels), mean);
            newState.Remove(node.Name + ".mean");
            newState.Remove(node.Name + ".variance");
            newState[node.Name + ".gamma"] = gamma.MoveToOuterDisposeScope();
            newState[node.Name + ".beta"] = beta.MoveToOuterDisposeScope();
            newState[node.Name + ".moving_mean"] = movingMean.MoveToOuterDisposeScope();
            newState[node.Name + ".moving_variance"] = ones(channels).MoveToOuterDisposeScope();
            var bn = new BatchNormalization { Name = node.Name, Axis = new Axes(axis + 1), Epsilon = epsilon, Trainable = nz.Trainable };
            layers.Add(node with { Layer = bn });
            rewritten.Add(node.Name);
        }
        return (model with { Layers = layers }, newState);
    }

    /// <summary>The layer classes tfjs-layers 4.22 registers for deserialization (its <c>className</c>s).</summary>
    private static readonly HashSet<string> TfjsLayers = new(StringComparer.Ordinal)
    {
        "InputLayer", "Activation", "Add", "AlphaDropout", "Average", "AveragePooling1D", "AveragePooling2D", "BatchNormalization",
        "Bidirectional", "CenterCrop", "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Conv3D", "Cropping2D", "Dense",
        "DepthwiseConv2D", "Dot", "Dropout", "ELU", "Embedding", "Flatten", "GRU", "GaussianDropout", "GaussianNoise",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "LSTM", "LayerNormalization",
        "LeakyReLU", "Masking", "MaxPooling1D", "MaxPooling2D", "Maximum", "Minimum", "Multiply", "PReLU", "Permute", "ReLU",
        "RepeatVector", "Rescaling", "Reshape", "Resizing", "SeparableConv2D", "SimpleRNN", "Softmax", "SpatialDropout1D",
        "ThresholdedReLU", "TimeDistributed", "UpSampling2D", "ZeroPadding2D",
    };

    private static Layer Inner(Layer layer) => layer switch
    {
        Bidirectional b => b.Wrapped.Layer,
        TimeDistributed t => t.Wrapped.Layer,
        _ => layer,
    };

    /// <summary>Where TF.js keeps a variable below its layer's name: an RNN cell's variables belong to the RNN layer
    /// itself; a Bidirectional's to <c>forward_&lt;inner&gt;</c> and <c>backward_&lt;inner&gt;</c>.</summary>
    private static string TfjsScope(Layer layer, string scope) => (layer, scope) switch
    {
        (Bidirectional b, "forward_layer/cell") => $"forward_{b.Wrapped.Layer.Name}/",
        (Bidirectional b, "backward_layer/cell") => $"backward_{(b.BackwardLayer?.Layer ?? b.Wrapped.Layer).Name}/",
        _ => "",
    };

    /// <summary>
    /// Keras 3's <c>to_json()</c> rewritten in the Keras 2 form TF.js deserializes: no <c>module</c>/
    /// <c>registered_name</c>/<c>build_config</c>, DTypePolicies as plain dtype strings, InputLayer's
    /// <c>batch_input_shape</c>, <c>inbound_nodes</c> as <c>[[[layer, node, tensor, {}], …]]</c> and input/output
    /// layers as lists of triples. Regularizers are dropped (they do not change a prediction, and TF.js names them
    /// differently).
    /// </summary>
    public static JsonObject Keras2Form(JsonObject keras3)
    {
        var result = (JsonObject)Rewrite(keras3.DeepClone())!;
        if (result["config"] is JsonObject config && result["class_name"]?.GetValue<string>() == "Functional")
        {
            config["input_layers"] = Triples(config["input_layers"]);
            config["output_layers"] = Triples(config["output_layers"]);
            foreach (var layer in (config["layers"] as JsonArray ?? []).OfType<JsonObject>())
                if (layer["inbound_nodes"] is JsonArray nodes) layer["inbound_nodes"] = Keras2Nodes(nodes);
            result["class_name"] = "Model";
        }
        return result;
    }

    private static JsonNode? Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["class_name"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
                    && o["class_name"]!.GetValue<string>() == "DTypePolicy" && o["config"] is JsonObject policy)
                    return policy["name"]?.DeepClone();
                o.Remove("module");
                o.Remove("registered_name");
                o.Remove("build_config");
                if (o["class_name"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
                    && o["class_name"]!.GetValue<string>() == "InputLayer" && o["config"] is JsonObject input && input["batch_shape"] is { } shape)
                {
                    input.Remove("batch_shape");
                    input["batch_input_shape"] = shape;
                }
                foreach (var key in o.Select(kv => kv.Key).ToList())
                {
                    if (key.EndsWith("_regularizer", StringComparison.Ordinal)) o[key] = null;
                    else if (key != "inbound_nodes") o[key] = Rewrite(o[key]?.DeepClone());
                }
                return o;
            case JsonArray a:
                return new JsonArray(a.Select(x => Rewrite(x?.DeepClone())).ToArray());
            default:
                return node;
        }
    }

    private static JsonNode Triples(JsonNode? refs) =>
        refs is JsonArray { Count: > 0 } a && a[0]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? new JsonArray(a.DeepClone()) : refs?.DeepClone() ?? new JsonArray();

    private static JsonArray Keras2Nodes(JsonArray nodes)
    {
        var result = new JsonArray();
        foreach (var node in nodes.OfType<JsonObject>())
        {
            var entries = new JsonArray();
            void Visit(JsonNode? arg)
            {
                if (arg is JsonArray list) { foreach (var x in list) Visit(x); return; }
                if (arg is JsonObject { } t && t["config"]?["keras_history"] is JsonArray h)
                    entries.Add(new JsonArray(h[0]!.DeepClone(), h[1]!.DeepClone(), h[2]!.DeepClone(), new JsonObject()));
            }
            Visit(node["args"]);
            result.Add(entries);
        }
        return result;
    }
}
