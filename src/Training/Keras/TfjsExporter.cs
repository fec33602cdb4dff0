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
        var errors = new List<SpecError>();
        foreach (var node in model.Layers)
        {
            // TF.js 4.x throws "GRUCell does not support reset_after parameter set to true" (tfjs-layers recurrent.ts).
            if (Inner(node.Layer) is GRU { ResetAfter: true })
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js has no GRU with reset_after=true (the Keras default); export as keras or onnx, or train with reset_after=false"));
            if (node.Layer is TimeDistributed)
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TimeDistributed is not exported to TensorFlow.js; export as keras"));
            else if (!TfjsLayers.Contains(LayerRegistry.NameOf(node.Layer.GetType())))
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js 4.x has no {LayerRegistry.NameOf(node.Layer.GetType())} layer; export as keras or onnx"));
            else if (node.Layer is BaseConv { Groups: > 1 })
                errors.Add(new SpecError(node.Path, $"layer '{node.Name}': TensorFlow.js convolutions have no groups; export as keras or onnx"));
        }
        if (errors.Count > 0) throw new SpecException(errors);

        var topology = Keras2Form(KerasExporter.Export(model, name));
        topology["keras_version"] = "tfjs-layers 4.22.0";
        topology["backend"] = "tensor_flow.js";
        var variables = KerasVariables.FromState(model, state);
        var specs = new JsonArray();
        using var data = new MemoryStream();
        foreach (var v in variables)
        {
            var node = model.Layers.First(l => l.Name == v.Layer);
            specs.Add(new JsonObject
            {
                ["name"] = $"{v.Layer}/{TfjsScope(node.Layer, v.Scope)}{v.Name}",
                ["shape"] = new JsonArray(v.Shape.Select(d => (JsonNode)d).ToArray()),
                ["dtype"] = "float32",
            });
            data.Write(MemoryMarshal.AsBytes(v.Data.AsSpan()));   // little-endian on every platform .NET runs here
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
