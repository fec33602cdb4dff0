using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// Walks a Keras model config (Sequential or Functional, nested models included) and emits the native graph: inputs,
/// layers with explicit <c>inputs</c>, outputs. Layer configs go through <see cref="KerasLayerConfig"/>. One instance
/// per conversion; collects every error before throwing.
/// </summary>
internal sealed partial class KerasGraphBuilder(string rootPath)
{
    private readonly List<SpecError> _errors = [];
    private readonly List<string> _notes = [];
    private readonly List<JsonObject> _inputs = [];
    private readonly List<JsonObject> _layers = [];
    private readonly List<KerasLayerOrigin> _origins = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<string> _inputPaths = [];
    private KerasVersion _version = KerasVersion.Keras3;
    private KerasLayerConfig _layerConfig = null!;

    /// <summary>The outermost nested model being converted, whose name keys its layers' weights in legacy files.</summary>
    private string? _legacyGroup;

    /// <summary>The models nested inside the outermost nested model, outermost first, around the layer being converted.</summary>
    private readonly List<string> _nestedModels = [];

    private static readonly HashSet<string> ModelClasses = ["Sequential", "Functional", "Model"];

    public KerasConversion Run(JsonElement document, string? versionOverride)
    {
        if (document.ValueKind != JsonValueKind.Object)
            throw new SpecException(rootPath, $"expected a Keras model object, got {ConfigBinder.Describe(document)}");
        var (model, modelPath, versionText, versionPath, compile, compilePath) = Unwrap(document, rootPath);
        if (document.TryGetProperty("weightsManifest", out var manifest) && manifest.ValueKind == JsonValueKind.Array && manifest.GetArrayLength() > 0)
            _notes.Add("the TF.js weight shards named in weightsManifest are not read; training starts from fresh weights");
        versionText = versionOverride ?? versionText;
        if (versionText is null && !model.TryGetProperty("module", out _))
        {
            versionText = "2.x-tf";
            _notes.Add("the document names no keras_version and has no Keras 3 \"module\" keys: read as a tf.keras 2 file");
        }
        _version = KerasVersion.Parse(versionText);
        if (_version.Major < 2)
            throw new SpecException(versionPath, $"Keras {versionText} files use Keras 1 config keys (output_dim, init, border_mode, …) that mean other things; load the model in Keras 2 or 3 and save it again");
        _layerConfig = new KerasLayerConfig(_version, _errors, _notes);

        if (model.ValueKind != JsonValueKind.Object || !model.TryGetProperty("class_name", out var cn) || cn.ValueKind != JsonValueKind.String)
            throw new SpecException(modelPath, "expected a Keras model object with \"class_name\" and \"config\"");
        var className = cn.GetString()!;
        if (!ModelClasses.Contains(className))
            throw new SpecException($"{modelPath}.class_name", $"a model of class \"{className}\" cannot be rebuilt from JSON; expected Sequential, Functional or Model (subclassed models keep their architecture in Python code)");

        var outputs = ConvertModel(model, modelPath, prefix: "", weightsPath: "", bound: null);
        if (_errors.Count > 0 || outputs is null) throw new SpecException(_errors.Count > 0 ? _errors : [new SpecError(modelPath, "is invalid")]);

        var native = Emit(className == "Sequential", outputs);
        if (_layerConfig.BatchSizeHint is { } batch) native["batch_size"] = batch;
        var nativeCompile = compile is { } c ? ConvertCompile(c, compilePath!) : null;
        if (_version.LegacyRestoreBestWeights)
            _notes.Add($"written by Keras {_version.Text}: there EarlyStopping(restore_best_weights=True) restored the best weights only when it stopped training early; here, as in Keras 3, they are restored at the end of training whenever they were recorded");
        return new KerasConversion(native, nativeCompile, _notes, _version, _origins) { InputPaths = _inputPaths };
    }

    private static (JsonElement Model, string Path, string? Version, string VersionPath, JsonElement? Compile, string? CompilePath) Unwrap(JsonElement doc, string path)
    {
        if (doc.TryGetProperty("modelTopology", out var topology) && topology.ValueKind == JsonValueKind.Object)
        {
            var topoPath = $"{path}.modelTopology";
            if (topology.TryGetProperty("model_config", out var mc))
                return (mc, $"{topoPath}.model_config", Text(topology, "keras_version"), $"{topoPath}.keras_version",
                    Present(topology, "training_config"), $"{topoPath}.training_config");
            return (topology, topoPath, Text(topology, "keras_version"), $"{topoPath}.keras_version",
                Present(doc, "trainingConfig"), $"{path}.trainingConfig");
        }
        if (doc.TryGetProperty("model_config", out var config))
            return (config, $"{path}.model_config", Text(doc, "keras_version"), $"{path}.keras_version",
                Present(doc, "training_config"), $"{path}.training_config");
        if (Present(doc, "compile_config") is { } cc) return (doc, path, Text(doc, "keras_version"), $"{path}.keras_version", cc, $"{path}.compile_config");
        return (doc, path, Text(doc, "keras_version"), $"{path}.keras_version", Present(doc, "training_config"), $"{path}.training_config");
    }

    private static string? Text(JsonElement obj, string key) =>
        obj.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement? Present(JsonElement obj, string key) =>
        obj.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    /// <summary>Converts a Sequential or Functional model; returns its output tensors as native refs.
    /// <paramref name="bound"/> are the outer tensors a nested model is called on (null for the top model).</summary>
    private List<string>? ConvertModel(JsonElement model, string path, string prefix, string weightsPath, IReadOnlyList<string>? bound)
    {
        var className = model.GetProperty("class_name").GetString()!;
        if (!model.TryGetProperty("config", out var config))
        {
            _errors.Add(new SpecError($"{path}.config", "is required"));
            return null;
        }
        var configPath = $"{path}.config";
        if (config.ValueKind == JsonValueKind.Object) CheckModelKeys(config, configPath);
        // Keras: a model with trainable false freezes every layer inside it, whatever the layers say.
        var frozen = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("trainable", out var t) && t.ValueKind == JsonValueKind.False;
        var firstLayer = _layers.Count;
        var outputs = className == "Sequential"
            ? ConvertSequential(model, config, configPath, prefix, weightsPath, bound)
            : ConvertFunctional(config, configPath, prefix, weightsPath, bound);
        if (frozen) foreach (var layer in _layers.Skip(firstLayer)) layer["trainable"] = false;
        return outputs;
    }

    private void CheckModelKeys(JsonElement config, string path)
    {
        if (config.TryGetProperty("dtype", out var dtype)) _layerConfig.CheckDtype(dtype, $"{path}.dtype", allowIntegers: false);
    }

    private List<string>? ConvertSequential(JsonElement model, JsonElement config, string path, string prefix, string weightsPath, IReadOnlyList<string>? bound)
    {
        // Keras ≤ 2.2.2 wrote the layer list itself as the config.
        var layersPath = config.ValueKind == JsonValueKind.Array ? path : $"{path}.layers";
        var layers = config.ValueKind == JsonValueKind.Array ? config
            : config.ValueKind == JsonValueKind.Object && config.TryGetProperty("layers", out var l) ? l : default;
        if (layers.ValueKind != JsonValueKind.Array || layers.GetArrayLength() == 0)
        {
            _errors.Add(new SpecError(layersPath, "is required: a non-empty list of layers"));
            return null;
        }
        var items = layers.EnumerateArray().ToList();
        string current;
        var start = 0;
        if (bound is not null)
        {
            if (bound.Count != 1)
            {
                _errors.Add(new SpecError(path, $"a nested Sequential model takes one input, got {bound.Count}"));
                return null;
            }
            current = bound[0];
            if (ClassOf(items[0]) == "InputLayer") start = 1;
        }
        else
        {
            // Without an input the layers are still checked, so every refusal is reported at once.
            var input = SequentialInput(model, config, items, layersPath, out start);
            current = "input";
            while (_names.Contains(current)) current = "_" + current;
            _names.Add(current);
            if (input is { } i) _inputs.Add(new JsonObject { ["name"] = current, ["shape"] = i.Shape, ["dtype"] = i.Dtype });
            _inputPaths.Add($"{layersPath}[0].config");
        }
        var counters = new Dictionary<string, int>();
        for (var i = 0; i < items.Count; i++)
        {
            var itemPath = $"{layersPath}[{i}]";
            var cls = ClassOf(items[i]);
            var weights = Join(weightsPath, "layers/" + CountedName(cls ?? "layer", counters));
            if (i < start) continue;
            if (cls == "InputLayer")
            {
                _errors.Add(new SpecError($"{itemPath}.class_name", "an InputLayer may only come first in a Sequential model"));
                continue;
            }
            if (i == 0 || i == start) _layerConfig.CheckBatchSize(items[i], itemPath);
            // A refused layer is skipped so the layers after it are still checked: one error per item.
            var outputs = ConvertCall(items[i], itemPath, prefix, weights, [current]);
            if (outputs is not null) current = outputs[0];
        }
        return _errors.Count > 0 ? null : [current];
    }

    /// <summary>The per-example input shape and dtype of a top-level Sequential model, from its InputLayer, its first
    /// layer's batch_input_shape / batch_shape / input_shape / input_dim, or its build_input_shape.</summary>
    private (JsonArray Shape, string Dtype)? SequentialInput(JsonElement model, JsonElement config, List<JsonElement> items, string layersPath, out int start)
    {
        start = 0;
        var first = items[0];
        var firstConfig = first.ValueKind == JsonValueKind.Object && first.TryGetProperty("config", out var fc) ? fc : default;
        var firstPath = $"{layersPath}[0].config";
        if (ClassOf(first) == "InputLayer")
        {
            start = 1;
            return _layerConfig.InputLayer(firstConfig, firstPath);
        }
        if (firstConfig.ValueKind == JsonValueKind.Object)
        {
            var dtype = firstConfig.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String && d.GetString() is "int32" or "int64" ? "int64" : "float32";
            foreach (var key in new[] { "batch_input_shape", "batch_shape" })
            {
                if (firstConfig.TryGetProperty(key, out var s) && s.ValueKind == JsonValueKind.Array)
                    return _layerConfig.BatchShape(s, $"{firstPath}.{key}") is { } shape ? (shape, dtype) : null;
            }
            if (firstConfig.TryGetProperty("input_shape", out var inputShape) && inputShape.ValueKind == JsonValueKind.Array)
                return (KerasLayerConfig.Dims(inputShape), dtype);
            if (ClassOf(first) != "Embedding" && firstConfig.TryGetProperty("input_dim", out var inputDim) && inputDim.ValueKind == JsonValueKind.Number)
                return (new JsonArray(inputDim.GetInt32()), dtype);
        }
        if (config.ValueKind == JsonValueKind.Object && config.TryGetProperty("build_input_shape", out var built) && built.ValueKind == JsonValueKind.Array)
            return _layerConfig.BatchShape(built, $"{ConfigBinder.Join(layersPath[..^".layers".Length], "build_input_shape")}") is { } shape ? (shape, "float32") : null;
        if (model.TryGetProperty("build_config", out var bc) && bc.ValueKind == JsonValueKind.Object
            && bc.TryGetProperty("input_shape", out var bis) && bis.ValueKind == JsonValueKind.Array)
            return _layerConfig.BatchShape(bis, "build_config.input_shape") is { } shape ? (shape, "float32") : null;
        _errors.Add(new SpecError(firstPath, "the model has no input shape: start it with an InputLayer or give the first layer batch_input_shape (an unbuilt Keras model cannot be trained from its JSON)"));
        return null;
    }

    private List<string>? ConvertFunctional(JsonElement config, string path, string prefix, string weightsPath, IReadOnlyList<string>? bound)
    {
        if (config.ValueKind != JsonValueKind.Object || !config.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            _errors.Add(new SpecError($"{path}.layers", "is required: the list of layers"));
            return null;
        }
        var inputRefs = TensorList(config, "input_layers", path);
        var outputRefs = TensorList(config, "output_layers", path);
        if (inputRefs is null || outputRefs is null) return null;
        var items = layers.EnumerateArray().Select((e, i) => (Element: e, Path: $"{path}.layers[{i}]")).ToList();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var counters = new Dictionary<string, int>();
        var weights = new string[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var name = LayerName(items[i].Element);
            if (name is not null) byName.TryAdd(name, i);
            weights[i] = Join(weightsPath, "layers/" + CountedName(ClassOf(items[i].Element) ?? "layer", counters));
        }

        // Tensors already available: (keras layer name, tensor index) → native ref.
        var tensors = new Dictionary<(string, int), string>();
        if (bound is not null && bound.Count != inputRefs.Count)
        {
            _errors.Add(new SpecError($"{path}.input_layers", $"the nested model has {inputRefs.Count} input(s) but is called on {bound.Count}"));
            return null;
        }
        for (var k = 0; k < inputRefs.Count; k++)
        {
            var (name, _, _) = inputRefs[k];
            if (!byName.TryGetValue(name, out var index) || ClassOf(items[index].Element) != "InputLayer")
            {
                _errors.Add(new SpecError($"{path}.input_layers", $"\"{name}\" is not an InputLayer of this model"));
                continue;
            }
            if (bound is not null) { tensors[(name, 0)] = bound[k]; continue; }
            var layerConfig = items[index].Element.TryGetProperty("config", out var c) ? c : default;
            var input = _layerConfig.InputLayer(layerConfig, $"{items[index].Path}.config");
            if (input is null) continue;
            var nativeName = NativeName(prefix, name, $"{items[index].Path}.name");
            _inputs.Add(new JsonObject { ["name"] = nativeName, ["shape"] = input.Value.Shape, ["dtype"] = input.Value.Dtype });
            _inputPaths.Add($"{items[index].Path}.config");
            tensors[(name, 0)] = nativeName;
        }
        if (_errors.Count > 0) return null;

        var pending = Enumerable.Range(0, items.Count).Where(i => ClassOf(items[i].Element) != "InputLayer").ToList();
        var calls = new Dictionary<int, List<KerasNodes.Ref>>();
        foreach (var i in pending)
        {
            var refs = KerasNodes.ReadSingleCall(items[i].Element, items[i].Path, _errors);
            if (refs is not null) calls[i] = refs;
        }
        if (_errors.Count > 0) return null;
        // Keras lists layers in creation order, which is not always call order: convert whatever is ready until done.
        while (pending.Count > 0)
        {
            var progress = false;
            foreach (var i in pending.ToList())
            {
                var refs = calls[i];
                if (!refs.All(r => tensors.ContainsKey((r.Layer, r.Tensor)))) continue;
                pending.Remove(i);
                progress = true;
                var (element, itemPath) = items[i];
                var args = refs.Select(r => tensors[(r.Layer, r.Tensor)]).ToList();
                // A refused layer still "produces" its tensors so the layers reading it are checked too.
                var name = LayerName(element) ?? $"#{i}";
                var outputs = ConvertCall(element, itemPath, prefix, weights[i], args) ?? Enumerable.Repeat(name, 8).ToList();
                for (var k = 0; k < outputs.Count; k++) tensors[(name, k)] = outputs[k];
            }
            if (progress) continue;
            foreach (var i in pending)
            {
                var missing = calls[i].First(r => !tensors.ContainsKey((r.Layer, r.Tensor)));
                _errors.Add(new SpecError($"{items[i].Path}.inbound_nodes", $"reads \"{missing.Layer}\" (tensor {missing.Tensor}), which is not a layer output of this model"));
            }
            return null;
        }
        var result = new List<string>();
        for (var k = 0; k < outputRefs.Count; k++)
        {
            var (name, _, index) = outputRefs[k];
            if (tensors.TryGetValue((name, index), out var native)) result.Add(native);
            else _errors.Add(new SpecError($"{path}.output_layers", $"\"{name}\" (tensor {index}) is not a layer output of this model"));
        }
        return _errors.Count > 0 ? null : result;
    }

    /// <summary>Converts one layer call (or a nested model call) on <paramref name="args"/>; returns its outputs, or
    /// one output per possible index for a plain layer (the native parser checks the count).</summary>
    private List<string>? ConvertCall(JsonElement element, string path, string prefix, string weightsPath, List<string> args)
    {
        var cls = ClassOf(element);
        if (cls is null)
        {
            _errors.Add(new SpecError($"{path}.class_name", "is required"));
            return null;
        }
        var name = LayerName(element);
        if (ModelClasses.Contains(cls))
        {
            var nestedName = name ?? "model";
            _notes.Add($"nested model \"{nestedName}\" ({path}) is flattened into the outer graph; its layers are named {nestedName}_<layer>");
            var outer = _legacyGroup;
            if (outer is null) _legacyGroup = nestedName;
            else _nestedModels.Add(nestedName);
            try { return ConvertModel(element, path, prefix + nestedName + "_", weightsPath, args); }
            finally
            {
                _legacyGroup = outer;
                if (outer is not null) _nestedModels.RemoveAt(_nestedModels.Count - 1);
            }
        }
        var layer = _layerConfig.Convert(element, path);
        if (layer is null) return null;
        var nativeName = NativeName(prefix, name ?? ModelParser.KerasSnakeCase(cls), $"{path}.config.name");
        layer["name"] = nativeName;
        layer["inputs"] = new JsonArray(args.Select(a => (JsonNode?)a).ToArray());
        _layers.Add(layer);
        var kerasName = name ?? ModelParser.KerasSnakeCase(cls);
        _origins.Add(new KerasLayerOrigin(nativeName, cls, path, weightsPath)
        {
            LegacyGroup = _legacyGroup ?? kerasName,
            NestedScope = _legacyGroup is null ? [] : [.. _nestedModels, kerasName],
        });
        // A plain layer's k-th output is native "name:k"; refs beyond its real count fail in the native parser.
        return Enumerable.Range(0, 8).Select(k => k == 0 ? nativeName : $"{nativeName}:{k}").ToList();
    }

    private string NativeName(string prefix, string kerasName, string path)
    {
        var name = prefix + kerasName;
        if (!ValidName().IsMatch(name))
        {
            var cleaned = InvalidChars().Replace(name, "_");
            _notes.Add($"layer name \"{name}\" ({path}) is renamed \"{cleaned}\": names here are letters, digits, '_' and '-'");
            name = cleaned;
        }
        if (!_names.Add(name)) _errors.Add(new SpecError(path, $"\"{name}\" is used by two layers (after flattening nested models)"));
        return name;
    }

    private JsonObject Emit(bool sequential, List<string> outputs)
    {
        var chain = sequential && _inputs.Count == 1 && outputs.Count == 1;
        for (var i = 0; chain && i < _layers.Count; i++)
        {
            var inputs = _layers[i]["inputs"]!.AsArray();
            var expected = i == 0 ? _inputs[0]["name"]!.GetValue<string>() : _layers[i - 1]["name"]!.GetValue<string>();
            chain = inputs.Count == 1 && inputs[0]!.GetValue<string>() == expected;
        }
        chain = chain && outputs[0] == _layers[^1]["name"]!.GetValue<string>();
        if (chain)
        {
            var model = new JsonObject { ["input_shape"] = _inputs[0]["shape"]!.DeepClone() };
            if (_inputs[0]["dtype"]!.GetValue<string>() != "float32") model["input_dtype"] = _inputs[0]["dtype"]!.DeepClone();
            foreach (var l in _layers) l.Remove("inputs");
            model["layers"] = new JsonArray(_layers.Select(l => (JsonNode?)l).ToArray());
            return model;
        }
        return new JsonObject
        {
            ["inputs"] = new JsonArray(_inputs.Select(i => (JsonNode?)i).ToArray()),
            ["layers"] = new JsonArray(_layers.Select(l => (JsonNode?)l).ToArray()),
            ["outputs"] = new JsonArray(outputs.Select(o => (JsonNode?)o).ToArray()),
        };
    }

    private JsonObject ConvertCompile(JsonElement compile, string path)
    {
        var native = new JsonObject();
        foreach (var p in compile.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Null) continue;
            if (p.Name is "sample_weight_mode") continue;
            var key = p.Name == "optimizer_config" ? "optimizer" : p.Name;
            native[key] = JsonNode.Parse(p.Value.GetRawText());
        }
        _notes.Add($"compile settings are taken from the file ({path}) unless the run gives its own");
        return native;
    }

    private List<(string Layer, int Node, int Tensor)>? TensorList(JsonElement config, string key, string path)
    {
        if (!config.TryGetProperty(key, out var value))
        {
            _errors.Add(new SpecError($"{path}.{key}", "is required"));
            return null;
        }
        var list = new List<(string, int, int)>();
        if (!KerasNodes.CollectTriples(value, list))
        {
            _errors.Add(new SpecError($"{path}.{key}", "expected [layer_name, node_index, tensor_index] triples (a list, a single triple or a dict of them)"));
            return null;
        }
        return list;
    }

    internal static string? ClassOf(JsonElement layer) =>
        layer.ValueKind == JsonValueKind.Object && layer.TryGetProperty("class_name", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;

    private static string? LayerName(JsonElement layer)
    {
        if (layer.ValueKind != JsonValueKind.Object) return null;
        if (layer.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String) return n.GetString();
        return layer.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
            && c.TryGetProperty("name", out var cn) && cn.ValueKind == JsonValueKind.String ? cn.GetString() : null;
    }

    /// <summary>Keras 3's name for a layer's weights group: its class in snake case, numbered within its container.</summary>
    private static string CountedName(string className, Dictionary<string, int> counters)
    {
        var stem = ModelParser.KerasSnakeCase(className);
        if (counters.TryGetValue(stem, out var n))
        {
            counters[stem] = n + 1;
            return $"{stem}_{n + 1}";
        }
        counters[stem] = 0;
        return stem;
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : $"{a}/{b}";

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_\\-]*$")]
    private static partial Regex ValidName();

    [GeneratedRegex("[^A-Za-z0-9_\\-]")]
    private static partial Regex InvalidChars();
}
