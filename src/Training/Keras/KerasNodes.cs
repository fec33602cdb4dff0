using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// Reads Functional <c>inbound_nodes</c> in both forms. Keras 2: a list of nodes, each a list of
/// <c>[layer_name, node_index, tensor_index, kwargs]</c> (kwargs may be missing in old files). Keras 3: a list of
/// <c>{"args": [...], "kwargs": {...}}</c> whose args hold <c>__keras_tensor__</c> objects, nested in a list for merge
/// layers. A layer called more than once (a shared layer) is refused: the native format calls each layer once.
/// </summary>
internal static class KerasNodes
{
    public sealed record Ref(string Layer, int Node, int Tensor);

    public static List<Ref>? ReadSingleCall(JsonElement layer, string path, List<SpecError> errors)
    {
        var nodesPath = $"{path}.inbound_nodes";
        if (!layer.TryGetProperty("inbound_nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new SpecError(nodesPath, "is required: the calls of this layer"));
            return null;
        }
        if (nodes.GetArrayLength() == 0)
        {
            errors.Add(new SpecError(nodesPath, "the layer is never called; remove it or connect it"));
            return null;
        }
        if (nodes.GetArrayLength() > 1)
        {
            errors.Add(new SpecError(nodesPath, $"the layer is called {nodes.GetArrayLength()} times (a shared layer); each layer must be called once here"));
            return null;
        }
        var node = nodes[0];
        var nodePath = $"{nodesPath}[0]";
        var refs = new List<Ref>();
        if (node.ValueKind == JsonValueKind.Object)
        {
            if (node.TryGetProperty("args", out var args)) CollectKerasTensors(args, refs);
            if (node.TryGetProperty("kwargs", out var kwargs)) CheckKwargs(kwargs, $"{nodePath}.kwargs", errors);
        }
        else if (node.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var entry in node.EnumerateArray())
            {
                var entryPath = $"{nodePath}[{i++}]";
                if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() < 3 || entry[0].ValueKind != JsonValueKind.String)
                {
                    errors.Add(new SpecError(entryPath, "expected [layer_name, node_index, tensor_index, kwargs]"));
                    return null;
                }
                refs.Add(new Ref(entry[0].GetString()!, entry[1].GetInt32(), entry[2].GetInt32()));
                if (entry.GetArrayLength() > 3) CheckKwargs(entry[3], $"{entryPath}[3]", errors);
            }
        }
        if (refs.Count == 0)
        {
            errors.Add(new SpecError(nodePath, "names no input tensor"));
            return null;
        }
        return refs;
    }

    /// <summary>Call arguments other than the tensors. <c>mask: null</c> changes nothing; anything else (a
    /// <c>training</c> flag, an explicit mask, initial states) changes what the layer computes and is refused.</summary>
    private static void CheckKwargs(JsonElement kwargs, string path, List<SpecError> errors)
    {
        if (kwargs.ValueKind != JsonValueKind.Object) return;
        foreach (var p in kwargs.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Null) continue;
            errors.Add(new SpecError($"{path}.{p.Name}", p.Name == "training"
                ? "a call with a fixed training flag is not supported; layers follow the training/inference phase"
                : $"call argument \"{p.Name}\" is not supported; only the input tensors are"));
        }
    }

    private static void CollectKerasTensors(JsonElement value, List<Ref> refs)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray()) CollectKerasTensors(item, refs);
                break;
            case JsonValueKind.Object:
                if (value.TryGetProperty("class_name", out var cn) && cn.GetString() == "__keras_tensor__"
                    && value.TryGetProperty("config", out var config) && config.TryGetProperty("keras_history", out var history)
                    && history.ValueKind == JsonValueKind.Array && history.GetArrayLength() == 3)
                    refs.Add(new Ref(history[0].GetString()!, history[1].GetInt32(), history[2].GetInt32()));
                break;
        }
    }

    /// <summary>input_layers / output_layers: a triple, a list of triples, or a dict of triples (Keras 3 follows the
    /// structure the model was built with).</summary>
    public static bool CollectTriples(JsonElement value, List<(string, int, int)> into)
    {
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 3 && value[0].ValueKind == JsonValueKind.String
            && value[1].ValueKind == JsonValueKind.Number && value[2].ValueKind == JsonValueKind.Number)
        {
            into.Add((value[0].GetString()!, value[1].GetInt32(), value[2].GetInt32()));
            return true;
        }
        if (value.ValueKind == JsonValueKind.Array)
            return value.GetArrayLength() > 0 && value.EnumerateArray().All(v => CollectTriples(v, into));
        if (value.ValueKind == JsonValueKind.Object)
            return value.EnumerateObject().Any() && value.EnumerateObject().All(p => CollectTriples(p.Value, into));
        return false;
    }
}
