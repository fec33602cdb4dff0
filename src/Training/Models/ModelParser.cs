using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingService.Training.Engine;
using TrainingService.Training.Layers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Models;

/// <summary>
/// Reads the native model format. Sequential: <c>{"input_shape": [28, 28], "layers": [...]}</c> (or an InputLayer first,
/// or <c>input_shape</c> on the first layer). Functional: <c>{"inputs": [{"name": "img", "shape": [32, 32, 3]}],
/// "layers": [{"type": "Dense", "name": "d", "inputs": ["img"]}, ...], "outputs": ["d"]}</c>; a layer without
/// <c>inputs</c> reads the previous layer; <c>"lstm:1"</c> names a layer's second output.
/// Every error is collected with its JSON path under <paramref name="path"/>.
/// </summary>
public static partial class ModelParser
{
    private static readonly HashSet<string> TopKeys = ["input_shape", "input_dtype", "inputs", "layers", "outputs", "name", "batch_size"];

    public static ModelDefinition? Parse(JsonElement model, string path, EngineLimits limits, List<SpecError> errors)
    {
        if (model.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, $"expected a model object, got {ConfigBinder.Describe(model)}"));
            return null;
        }
        var before = errors.Count;
        foreach (var p in model.EnumerateObject().Where(p => !TopKeys.Contains(p.Name)))
            errors.Add(new SpecError($"{path}.{p.Name}", $"unknown key; accepted keys are {string.Join(", ", TopKeys)}"));
        if (!model.TryGetProperty("layers", out var layersJson) || layersJson.ValueKind != JsonValueKind.Array || layersJson.GetArrayLength() == 0)
        {
            errors.Add(new SpecError($"{path}.layers", "is required: a non-empty list of layers"));
            return null;
        }
        if (layersJson.GetArrayLength() > limits.MaxLayers)
            errors.Add(new SpecError($"{path}.layers", $"has {layersJson.GetArrayLength()} layers; the limit is {limits.MaxLayers}"));

        var functional = model.TryGetProperty("inputs", out var inputsJson);
        var inputs = new List<ModelInput>();
        var layerElements = layersJson.EnumerateArray().Select((e, i) => (e, i)).ToList();
        int? batchSize = null;
        if (model.TryGetProperty("batch_size", out var batchJson) && batchJson.ValueKind != JsonValueKind.Null)
        {
            if (batchJson.ValueKind == JsonValueKind.Number && batchJson.TryGetInt32(out var b) && b > 0) batchSize = b;
            else errors.Add(new SpecError($"{path}.batch_size", $"expected a positive integer (the batch size the model was built for), got {batchJson.GetRawText()}"));
        }
        if (functional) ReadInputs(inputsJson, $"{path}.inputs", inputs, errors);
        else
        {
            var shape = ReadSequentialInput(model, layerElements, path, errors, out var skipFirst, ref batchSize);
            if (skipFirst) layerElements.RemoveAt(0);
            if (shape is not null)
            {
                var dtype = model.TryGetProperty("input_dtype", out var dt) && dt.ValueKind == JsonValueKind.String ? dt.GetString()! : null;
                inputs.Add(new ModelInput("input", new Shape(shape), dtype ?? "float32"));
            }
        }
        if (errors.Count > before) return null;

        var names = new Dictionary<string, Shape[]>(StringComparer.Ordinal);
        foreach (var input in inputs) names[input.Name] = [input.Shape];
        var counters = new Dictionary<string, int>();
        var nodes = new List<LayerNode>();
        var previous = inputs.Count == 1 ? inputs[0].Name : null;
        var consumedByEmbedding = new HashSet<string>();
        foreach (var (element, index) in layerElements)
        {
            var layerPath = $"{path}.layers[{index}]";
            var layer = LayerRegistry.Parse(element, layerPath, errors, extraReserved: index == 0 && !functional ? ["input_shape", "batch_input_shape"] : null);
            if (layer is null) continue;
            if (layer is InputLayer)
            {
                errors.Add(new SpecError($"{layerPath}.type", functional ? "declare inputs in \"inputs\", not as layers" : "an InputLayer may only come first"));
                continue;
            }
            if (string.IsNullOrEmpty(layer.Name)) layer = layer with { Name = AutoName(layer, counters, names) };
            else if (!ValidName().IsMatch(layer.Name))
            {
                errors.Add(new SpecError($"{layerPath}.name", $"\"{layer.Name}\" is not a valid name; use letters, digits, '_' and '-'"));
                continue;
            }
            if (names.ContainsKey(layer.Name))
            {
                errors.Add(new SpecError($"{layerPath}.name", $"\"{layer.Name}\" is already used; names must be unique"));
                continue;
            }
            var refs = ReadRefs(element, layerPath, previous, errors);
            if (refs is null) continue;
            var inputShapes = new List<Shape>();
            var ok = true;
            foreach (var r in refs)
            {
                if (!names.TryGetValue(r.Node, out var shapes))
                {
                    errors.Add(new SpecError($"{layerPath}.inputs", $"\"{r.Node}\" is not an input or an earlier layer; known: {string.Join(", ", names.Keys)}"));
                    ok = false;
                }
                else if (r.Index >= shapes.Length)
                {
                    errors.Add(new SpecError($"{layerPath}.inputs", $"\"{r}\" does not exist: {r.Node} has {shapes.Length} output(s)"));
                    ok = false;
                }
                else inputShapes.Add(shapes[r.Index]);
            }
            if (!ok) continue;
            var type = LayerRegistry.NameOf(layer.GetType());
            if (refs.Count < layer.MinInputs || refs.Count > layer.MaxInputs)
            {
                var expected = layer.MinInputs == layer.MaxInputs ? $"{layer.MinInputs}" : layer.MaxInputs == int.MaxValue ? $"at least {layer.MinInputs}" : $"{layer.MinInputs} to {layer.MaxInputs}";
                errors.Add(new SpecError($"{layerPath}.inputs", $"{type} takes {expected} input(s), got {refs.Count}"));
                continue;
            }
            Shape[] outputShapes;
            try
            {
                outputShapes = layer.OutputShapes(inputShapes.ToArray());
            }
            catch (ShapeException e)
            {
                errors.Add(new SpecError(layerPath, $"({type}) {e.Message}"));
                continue;
            }
            catch (OverflowException)
            {
                // Shapes are ints; a product of huge declared dimensions (Flatten of [8, 2^31-1]) does not fit one.
                errors.Add(new SpecError(layerPath, $"({type}) its output would have more than {int.MaxValue} elements per example"));
                continue;
            }
            if (layer.TakesIndices) foreach (var r in refs) consumedByEmbedding.Add(r.Node);
            names[layer.Name] = outputShapes;
            nodes.Add(new LayerNode(layer, refs, inputShapes.ToArray(), outputShapes, layerPath));
            previous = layer.Name;
        }
        if (errors.Count > before) return null;

        var outputs = ReadOutputs(model, path, functional, previous, names, errors);
        if (outputs is null || errors.Count > before) return null;
        var typedInputs = inputs.Select(i => consumedByEmbedding.Contains(i.Name) && i.Dtype == "float32" ? i with { Dtype = "int64" } : i).ToList();
        var definition = new ModelDefinition(typedInputs, nodes, outputs, outputs.Select(o => names[o.Node][o.Index]).ToArray(), !functional)
        {
            BatchSize = batchSize,
        };

        var total = nodes.Sum(n => { var (t, nt) = n.Layer.CountParameters(n.InputShapes); return t + nt; });
        if (total > limits.MaxParameters)
            errors.Add(new SpecError($"{path}.layers", $"the model has {total:N0} parameters; the limit is {limits.MaxParameters:N0}"));
        return errors.Count > before ? null : definition;
    }

    /// <summary>The per-example input shape of a Sequential model; a fixed batch axis in an InputLayer's batch_shape or
    /// a first layer's batch_input_shape sets <paramref name="batchSize"/> (when the model does not give one).</summary>
    private static int[]? ReadSequentialInput(JsonElement model, List<(JsonElement Element, int Index)> layers, string path,
        List<SpecError> errors, out bool skipFirst, ref int? batchSize)
    {
        skipFirst = false;
        if (model.TryGetProperty("input_shape", out var shapeJson)) return ReadShape(shapeJson, $"{path}.input_shape", errors);
        var (first, index) = layers[0];
        if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "InputLayer")
        {
            var layer = (InputLayer?)LayerRegistry.Parse(first, $"{path}.layers[{index}]", errors);
            skipFirst = true;
            batchSize ??= layer?.FixedBatchSize;
            return layer?.ExampleShape;
        }
        if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("input_shape", out var own))
            return ReadShape(own, $"{path}.layers[{index}].input_shape", errors);
        if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("batch_input_shape", out var batch))
        {
            var dims = ReadShape(batch, $"{path}.layers[{index}].batch_input_shape", errors);
            if (dims is { Length: 1 })
            {
                errors.Add(new SpecError($"{path}.layers[{index}].batch_input_shape", "expected the batch axis and at least one more dimension"));
                return null;
            }
            if (dims is { Length: > 0 } && dims[0] > 0) batchSize ??= dims[0];
            return dims?[1..];
        }
        errors.Add(new SpecError($"{path}.input_shape", "is required: the per-example input shape without the batch axis, e.g. [28, 28] (or start the layers with an InputLayer)"));
        return null;
    }

    private static void ReadInputs(JsonElement json, string path, List<ModelInput> inputs, List<SpecError> errors)
    {
        if (json.ValueKind != JsonValueKind.Array || json.GetArrayLength() == 0)
        {
            errors.Add(new SpecError(path, "expected a non-empty list of inputs like {\"name\": \"img\", \"shape\": [28, 28]}"));
            return;
        }
        var i = 0;
        foreach (var item in json.EnumerateArray())
        {
            var p = $"{path}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) { errors.Add(new SpecError(p, "expected an object with name and shape")); continue; }
            foreach (var key in item.EnumerateObject().Where(k => k.Name is not ("name" or "shape" or "dtype")))
                errors.Add(new SpecError($"{p}.{key.Name}", "unknown key; accepted keys are name, shape, dtype"));
            var name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
            if (name is null || !ValidName().IsMatch(name)) { errors.Add(new SpecError($"{p}.name", "is required: letters, digits, '_' and '-'")); continue; }
            if (inputs.Any(x => x.Name == name)) { errors.Add(new SpecError($"{p}.name", $"\"{name}\" is already used")); continue; }
            if (!item.TryGetProperty("shape", out var s)) { errors.Add(new SpecError($"{p}.shape", "is required, e.g. [28, 28]")); continue; }
            var shape = ReadShape(s, $"{p}.shape", errors);
            var dtype = item.TryGetProperty("dtype", out var d) ? d.GetString() ?? "float32" : "float32";
            if (dtype is not ("float32" or "int32" or "int64")) { errors.Add(new SpecError($"{p}.dtype", $"\"{dtype}\" is not accepted; expected float32, int32 or int64")); continue; }
            if (shape is not null) inputs.Add(new ModelInput(name, new Shape(shape), dtype == "int32" ? "int64" : dtype));
        }
    }

    private static int[]? ReadShape(JsonElement json, string path, List<SpecError> errors)
    {
        if (json.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new SpecError(path, $"expected a list of positive integers, got {ConfigBinder.Describe(json)}"));
            return null;
        }
        // A scalar input (shape []) has no axis for any layer to work on.
        if (json.GetArrayLength() == 0)
        {
            errors.Add(new SpecError(path, "expected at least one dimension, e.g. [4]"));
            return null;
        }
        var dims = new List<int>();
        foreach (var d in json.EnumerateArray())
        {
            if (d.ValueKind == JsonValueKind.Null) dims.Add(-1);
            else if (d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var v) && v > 0) dims.Add(v);
            else
            {
                errors.Add(new SpecError(path, $"expected a list of positive integers (null for a variable length), got {json.GetRawText()}"));
                return null;
            }
        }
        return dims.ToArray();
    }

    private static List<TensorRef>? ReadRefs(JsonElement element, string path, string? previous, List<SpecError> errors)
    {
        if (!element.TryGetProperty("inputs", out var json))
        {
            if (previous is null)
            {
                errors.Add(new SpecError($"{path}.inputs", "is required here: name the input or layer this layer reads"));
                return null;
            }
            return [new TensorRef(previous)];
        }
        var items = json.ValueKind == JsonValueKind.String ? [json] : json.ValueKind == JsonValueKind.Array ? json.EnumerateArray().ToList() : null;
        if (items is null || items.Count == 0 || items.Any(i => i.ValueKind != JsonValueKind.String))
        {
            errors.Add(new SpecError($"{path}.inputs", "expected a name or a list of names of inputs or earlier layers"));
            return null;
        }
        return items.Select(i => ParseRef(i.GetString()!)).ToList();
    }

    private static TensorRef ParseRef(string text)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text[(colon + 1)..], out var index) ? new TensorRef(text[..colon], index) : new TensorRef(text);
    }

    private static List<TensorRef>? ReadOutputs(JsonElement model, string path, bool functional, string? last,
        Dictionary<string, Shape[]> names, List<SpecError> errors)
    {
        if (!model.TryGetProperty("outputs", out var json))
        {
            if (last is null) return null;
            return [new TensorRef(last)];
        }
        var items = json.ValueKind == JsonValueKind.String ? [json] : json.ValueKind == JsonValueKind.Array ? json.EnumerateArray().ToList() : null;
        if (items is null || items.Count == 0 || items.Any(i => i.ValueKind != JsonValueKind.String))
        {
            errors.Add(new SpecError($"{path}.outputs", "expected a name or a list of names of layers"));
            return null;
        }
        var refs = items.Select(i => ParseRef(i.GetString()!)).ToList();
        for (var i = 0; i < refs.Count; i++)
        {
            if (!names.TryGetValue(refs[i].Node, out var shapes) || refs[i].Index >= shapes.Length)
                errors.Add(new SpecError($"{path}.outputs[{i}]", $"\"{refs[i]}\" is not a layer output; known: {string.Join(", ", names.Keys)}"));
        }
        if (refs.Select(r => r.Node).Distinct().Count() != refs.Count)
            errors.Add(new SpecError($"{path}.outputs", "each output must be a different layer"));
        _ = functional;
        return refs;
    }

    private static string AutoName(Layer layer, Dictionary<string, int> counters, Dictionary<string, Shape[]> taken)
    {
        var stem = KerasSnakeCase(LayerRegistry.NameOf(layer.GetType()));
        while (true)
        {
            var n = counters.GetValueOrDefault(stem);
            counters[stem] = n + 1;
            var name = n == 0 ? stem : $"{stem}_{n}";
            if (!taken.ContainsKey(name)) return name;
        }
    }

    /// <summary>Keras's <c>to_snake_case</c>: Conv2D → conv2d, MaxPooling2D → max_pooling2d, LSTM → lstm.</summary>
    public static string KerasSnakeCase(string name)
    {
        var s = Regex.Replace(name, "(.)([A-Z][a-z]+)", "$1_$2");
        return Regex.Replace(s, "([a-z])([A-Z])", "$1_$2").ToLowerInvariant();
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_\\-]*$")]
    private static partial Regex ValidName();
}
