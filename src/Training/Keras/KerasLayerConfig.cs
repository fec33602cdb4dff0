using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Activations;
using TrainingService.Training.Layers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// One Keras layer object (<c>{"class_name", "config", "module", "registered_name", "build_config"}</c>) to a native
/// layer (<c>{"type", …config keys}</c>). The native layer records take Keras's config keys as they are, so this only
/// drops bookkeeping that changes nothing, refuses what cannot be honoured, and applies the meanings that depend on the
/// Keras version (hard_sigmoid, LSTM/GRU defaults missing from old files). Unknown keys are left for the native parser,
/// whose errors are mapped back to Keras paths.
/// </summary>
internal sealed class KerasLayerConfig(KerasVersion version, List<SpecError> errors, List<string> notes)
{
    /// <summary>Keys Keras writes on every layer that say nothing about what it computes.</summary>
    private static readonly HashSet<string> Bookkeeping = ["name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape", "build_config"];

    public JsonObject? Convert(JsonElement layer, string path)
    {
        var cls = KerasGraphBuilder.ClassOf(layer)!;
        if (IsCustom(layer, cls, path)) return null;
        var type = LayerRegistry.Find(cls);
        if (type is null || type == typeof(InputLayer))
        {
            errors.Add(new SpecError($"{path}.class_name", type is null
                ? $"layer \"{cls}\" is not supported; supported layers: {string.Join(", ", LayerRegistry.Names.Where(n => n != "InputLayer"))}"
                : "an InputLayer may only declare a model input"));
            return null;
        }
        if (!layer.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError($"{path}.config", "is required: the layer's config object"));
            return null;
        }
        var native = ConvertConfig(cls, config, $"{path}.config", nested: false);
        if (native is null) return null;
        native["type"] = cls;
        return native;
    }

    /// <summary>A config object's keys for the native layer; also used for the layers nested in Bidirectional and
    /// TimeDistributed, which stay in Keras's <c>{"class_name", "config"}</c> form.</summary>
    private JsonObject? ConvertConfig(string cls, JsonElement config, string path, bool nested)
    {
        var before = errors.Count;
        if (cls == "Dense" && (config.TryGetProperty("output_dim", out _) || config.TryGetProperty("init", out _)))
        {
            errors.Add(new SpecError(path, "Keras 1 config keys (output_dim, init, W_regularizer …) are not read; save the model with Keras 2 or 3"));
            return null;
        }
        var native = new JsonObject();
        foreach (var p in config.EnumerateObject())
        {
            var at = $"{path}.{p.Name}";
            var v = p.Value;
            switch (p.Name)
            {
                case "trainable":
                    if (v.ValueKind == JsonValueKind.False) native["trainable"] = false;
                    continue;
                case "dtype":
                    CheckDtype(v, at, allowIntegers: false);
                    continue;
                case "name" when nested:
                    native["name"] = JsonNode.Parse(v.GetRawText());
                    continue;
                case "input_dim" when cls != "Embedding":
                case "input_length" when cls != "Embedding":
                    continue;
                case "quantization_config" or "lora_rank" or "lora_alpha":
                    if (v.ValueKind != JsonValueKind.Null)
                        errors.Add(new SpecError(at, p.Name == "quantization_config" ? "quantized layers are not supported" : "LoRA-adapted layers are not supported"));
                    continue;
                case "activation" or "recurrent_activation":
                    native[p.Name] = Activation(v, at);
                    continue;
                case "layer" or "backward_layer" when v.ValueKind == JsonValueKind.Object:
                    native[p.Name] = Nested(v, at);
                    continue;
            }
            if (Bookkeeping.Contains(p.Name)) continue;
            native[p.Name] = JsonNode.Parse(v.GetRawText());
        }
        ApplyVersionDefaults(cls, native, path);
        return errors.Count > before ? null : native;
    }

    private JsonNode? Nested(JsonElement value, string path)
    {
        var cls = KerasGraphBuilder.ClassOf(value);
        if (cls is null || !value.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            return JsonNode.Parse(value.GetRawText());   // native form or malformed: the native parser reports it
        if (IsCustom(value, cls, path)) return null;
        var inner = ConvertConfig(cls, config, $"{path}.config", nested: true);
        return new JsonObject { ["class_name"] = cls, ["config"] = inner };
    }

    private bool IsCustom(JsonElement layer, string cls, string path)
    {
        var registered = layer.TryGetProperty("registered_name", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        var module = layer.TryGetProperty("module", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        // keras_hub/keras_nlp layers register as "keras_hub>Name"; those we implement are not custom.
        if (registered is not null && registered.Contains('>') && LayerRegistry.Find(registered) is not null) return false;
        var custom = cls.Contains('>') || registered is not null && registered != cls && registered.Contains('>')
            || module is not null && !module.StartsWith("keras", StringComparison.Ordinal) && !module.StartsWith("tf_keras", StringComparison.Ordinal);
        if (custom)
            errors.Add(new SpecError($"{path}.{(registered is not null && registered.Contains('>') ? "registered_name" : module is not null && !cls.Contains('>') ? "module" : "class_name")}",
                $"\"{registered ?? cls}\" is a custom object: its code is not in the file, so it cannot be rebuilt here"));
        return custom;
    }

    /// <summary>An activation as a name. Keras 1/2's hard_sigmoid is a different function from Keras 3's.</summary>
    private JsonNode? Activation(JsonElement value, string path)
    {
        var name = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            // Keras ≥ 2.13 may serialize a built-in activation as {"class_name": "function", "config": "relu"}.
            JsonValueKind.Object when value.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.String
                && (!value.TryGetProperty("module", out var m) || m.GetString()?.StartsWith("keras", StringComparison.Ordinal) == true) => c.GetString(),
            _ => "\u0000",
        };
        if (name == "\u0000")
        {
            errors.Add(new SpecError(path, "a custom activation object cannot be rebuilt here; use a built-in activation name"));
            return null;
        }
        if (name == "hard_sigmoid" && version.Keras2HardSigmoid)
        {
            notes.Add($"{path}: hard_sigmoid in a Keras {version.Text} file is clip(0.2x + 0.5, 0, 1), kept as such (Keras 3's hard_sigmoid is relu6(x + 3) / 6)");
            return ActivationRegistry.HardSigmoidKeras2;
        }
        return name;
    }

    /// <summary>Keys older files omit, filled with the default of the Keras that wrote them.</summary>
    private void ApplyVersionDefaults(string cls, JsonObject native, string path)
    {
        if (cls is not ("LSTM" or "GRU")) return;
        if (!native.ContainsKey("recurrent_activation"))
        {
            var hard = version.HardSigmoidRecurrentDefault;
            native["recurrent_activation"] = hard ? ActivationRegistry.HardSigmoidKeras2 : "sigmoid";
            notes.Add($"{path}.recurrent_activation: absent; Keras {version.Text}'s default {(hard ? "hard_sigmoid (clip(0.2x + 0.5, 0, 1))" : "sigmoid")} is used");
        }
        if (cls == "GRU" && !native.ContainsKey("reset_after"))
        {
            native["reset_after"] = version.ResetAfterDefault;
            notes.Add($"{path}.reset_after: absent; Keras {version.Text}'s default {(version.ResetAfterDefault ? "true" : "false")} is used");
        }
    }

    /// <summary>A dtype string or Keras 3 DTypePolicy: float32 changes nothing; integers only declare index inputs.</summary>
    public void CheckDtype(JsonElement value, string path, bool allowIntegers)
    {
        var name = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => "float32",
            JsonValueKind.Object when value.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
                && c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString(),
            _ => null,
        };
        if (name == "float32" || allowIntegers && name is "int32" or "int64") return;
        errors.Add(new SpecError(path, $"dtype {(name is null ? value.GetRawText() : $"\"{name}\"")} is not supported; layers compute in float32"));
    }

    /// <summary>The fixed batch size the file's inputs declare (<c>batch_shape: [32, 100]</c>), if any: a hint that
    /// becomes the default <c>fit.batch_size</c>.</summary>
    public int? BatchSizeHint { get; private set; }

    /// <summary>Reads a first layer's batch_input_shape / batch_shape for its batch size hint.</summary>
    public void CheckBatchSize(JsonElement layer, string path)
    {
        if (!layer.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object) return;
        foreach (var key in new[] { "batch_input_shape", "batch_shape" })
        {
            if (config.TryGetProperty(key, out var s) && s.ValueKind == JsonValueKind.Array) BatchShape(s, $"{path}.config.{key}");
        }
    }

    /// <summary>The per-example shape from a shape that includes the batch axis; a fixed batch size is kept as
    /// <see cref="BatchSizeHint"/>.</summary>
    public JsonArray? BatchShape(JsonElement shape, string path)
    {
        if (shape.GetArrayLength() < 1)
        {
            errors.Add(new SpecError(path, "expected the batch axis followed by the example's axes"));
            return null;
        }
        if (shape[0].ValueKind != JsonValueKind.Null) BatchSize(shape[0], path);
        var dims = Dims(shape);
        dims.RemoveAt(0);
        return dims;
    }

    private void BatchSize(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var size) || size < 1)
        {
            errors.Add(new SpecError(path, $"the batch size must be null or a positive integer, got {value.GetRawText()}"));
            return;
        }
        if (BatchSizeHint is null)
        {
            BatchSizeHint = size;
            notes.Add($"the input declares a fixed batch size of {size} ({path}): it becomes fit.batch_size unless the run gives one");
        }
    }

    public static JsonArray Dims(JsonElement shape) =>
        new(shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Null ? null : (JsonNode?)JsonValue.Create(d.GetInt32())).ToArray());

    /// <summary>An InputLayer's per-example shape and dtype (int32/int64 inputs feed Embedding).</summary>
    public (JsonArray Shape, string Dtype)? InputLayer(JsonElement config, string path)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, "is required: the InputLayer's config"));
            return null;
        }
        var before = errors.Count;
        var dtype = "float32";
        JsonArray? shape = null;
        var found = false;
        foreach (var p in config.EnumerateObject())
        {
            var at = $"{path}.{p.Name}";
            switch (p.Name)
            {
                case "batch_shape" or "batch_input_shape" when p.Value.ValueKind == JsonValueKind.Array:
                    shape = BatchShape(p.Value, at);
                    found = true;
                    break;
                case "shape" or "input_shape" when p.Value.ValueKind == JsonValueKind.Array:
                    shape = Dims(p.Value);
                    found = true;
                    break;
                case "batch_size" when p.Value.ValueKind != JsonValueKind.Null:
                    BatchSize(p.Value, at);
                    break;
                case "dtype":
                    CheckDtype(p.Value, at, allowIntegers: true);
                    if (p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is "int32" or "int64"
                        || p.Value.ValueKind == JsonValueKind.Object && p.Value.GetRawText().Contains("\"int", StringComparison.Ordinal))
                        dtype = "int64";
                    break;
                case "sparse" or "ragged" or "optional":
                    if (p.Value.ValueKind == JsonValueKind.True) errors.Add(new SpecError(at, $"{p.Name} inputs are not supported"));
                    break;
                case "name" or "input_tensor" or "batch_size":
                    break;
                default:
                    errors.Add(new SpecError(at, "unknown InputLayer key; accepted keys are batch_shape, batch_input_shape, shape, dtype, sparse, ragged, optional, name"));
                    break;
            }
        }
        if (!found) errors.Add(new SpecError($"{path}.batch_shape", "is required: the input's shape with the batch axis, e.g. [null, 28, 28]"));
        return errors.Count > before || shape is null ? null : (shape, dtype);
    }
}
