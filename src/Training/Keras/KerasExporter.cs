using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// Writes a native model definition as Keras 3's <c>model.to_json()</c>: <c>module</c>/<c>class_name</c>/<c>config</c>/
/// <c>registered_name</c>, every config key with the value the definition uses (Keras's defaults where it gave none),
/// float32 DTypePolicies, an InputLayer with <c>batch_shape</c>, and for Functional models <c>inbound_nodes</c> of
/// <c>__keras_tensor__</c> arguments. <see cref="KerasImporter"/> reads the result back to the same definition.
/// Throws <see cref="SpecException"/> for what Keras 3 cannot express (Keras 2's hard_sigmoid).
/// </summary>
public static class KerasExporter
{
    /// <summary>Native config keys that Keras 3 layers do not take (or only take when set); written only when set.</summary>
    private static readonly HashSet<string> OnlyWhenSet =
        ["input_length", "implementation", "zero_output_for_mask", "backward_layer", "renorm_clipping"];

    /// <summary>Keys Keras 3 does not take at all; they must hold their neutral value to be exported.</summary>
    private static readonly Dictionary<string, object?> Neutral = new() { ["time_major"] = false, ["renorm"] = false, ["renorm_momentum"] = 0.99 };

    public static JsonObject Export(ModelDefinition model, string name = "model")
    {
        var errors = new List<SpecError>();
        var result = model.IsSequential && model.Inputs.Count == 1 ? Sequential(model, name, errors) : Functional(model, name, errors);
        if (errors.Count > 0) throw new SpecException(errors);
        return result;
    }

    private static JsonObject Sequential(ModelDefinition model, string name, List<SpecError> errors)
    {
        var input = model.Inputs[0];
        var layers = new JsonArray { InputLayer(input, "input_layer", functional: false) };
        for (var i = 0; i < model.Layers.Count; i++) layers.Add(LayerObject(model.Layers[i], $"model.config.layers[{i + 1}]", errors));
        return new JsonObject
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject
            {
                ["name"] = name, ["trainable"] = true, ["dtype"] = Policy(), ["layers"] = layers,
                ["build_input_shape"] = BatchShape(input.Shape),
            },
            ["registered_name"] = null,
            ["build_config"] = new JsonObject { ["input_shape"] = BatchShape(input.Shape) },
        };
    }

    private static JsonObject Functional(ModelDefinition model, string name, List<SpecError> errors)
    {
        var layers = new JsonArray();
        foreach (var input in model.Inputs) layers.Add(InputLayer(input, input.Name, functional: true));
        var shapes = new Dictionary<string, (Shape[] Shapes, bool Integer)>(StringComparer.Ordinal);
        foreach (var input in model.Inputs) shapes[input.Name] = ([input.Shape], input.IsInteger);
        for (var i = 0; i < model.Layers.Count; i++)
        {
            var node = model.Layers[i];
            var layer = LayerObject(node, $"model.config.layers[{model.Inputs.Count + i}]", errors);
            var tensors = node.Inputs.Select(r => (JsonNode)KerasTensor(r, shapes[r.Node].Shapes[r.Index], shapes[r.Node].Integer)).ToArray();
            JsonNode args = node.Layer.MaxInputs > 1 ? new JsonArray(new JsonArray(tensors)) : new JsonArray(tensors);
            layer["name"] = node.Name;
            layer["inbound_nodes"] = new JsonArray(new JsonObject { ["args"] = args, ["kwargs"] = new JsonObject() });
            layers.Add(layer);
            shapes[node.Name] = (node.OutputShapes, false);
        }
        JsonNode Triples(IEnumerable<(string Node, int Index)> refs)
        {
            var list = refs.Select(r => (JsonNode)new JsonArray(r.Node, 0, r.Index)).ToArray();
            return list.Length == 1 ? list[0] : new JsonArray(list);
        }
        return new JsonObject
        {
            ["module"] = "keras.src.models.functional",
            ["class_name"] = "Functional",
            ["config"] = new JsonObject
            {
                ["name"] = name, ["trainable"] = true, ["layers"] = layers,
                ["input_layers"] = Triples(model.Inputs.Select(i => (i.Name, 0))),
                ["output_layers"] = Triples(model.Outputs.Select(o => (o.Node, o.Index))),
            },
            ["registered_name"] = "Functional",
            ["build_config"] = new JsonObject
            {
                ["input_shape"] = model.Inputs.Count == 1 ? BatchShape(model.Inputs[0].Shape) : new JsonArray(model.Inputs.Select(i => (JsonNode)BatchShape(i.Shape)).ToArray()),
            },
        };
    }

    private static JsonObject InputLayer(ModelInput input, string name, bool functional)
    {
        var layer = new JsonObject
        {
            ["module"] = "keras.layers",
            ["class_name"] = "InputLayer",
            ["config"] = new JsonObject
            {
                ["batch_shape"] = BatchShape(input.Shape), ["dtype"] = input.IsInteger ? "int32" : "float32", ["sparse"] = false, ["name"] = name,
            },
            ["registered_name"] = null,
        };
        if (functional)
        {
            layer["name"] = name;
            layer["inbound_nodes"] = new JsonArray();
        }
        return layer;
    }

    private static JsonObject LayerObject(LayerNode node, string path, List<SpecError> errors)
    {
        var layer = Serialize(node.Layer, node.Name, $"{path}.config", errors);
        layer["build_config"] = new JsonObject
        {
            ["input_shape"] = node.InputShapes.Length == 1 ? BatchShape(node.InputShapes[0]) : new JsonArray(node.InputShapes.Select(s => (JsonNode)BatchShape(s)).ToArray()),
        };
        return layer;
    }

    /// <summary>A layer as Keras serializes it: module, class_name, config (name, trainable, dtype, its keys), registered_name.</summary>
    private static JsonObject Serialize(Layer layer, string name, string path, List<SpecError> errors)
    {
        var config = new JsonObject { ["name"] = name, ["trainable"] = true, ["dtype"] = Policy() };
        foreach (var key in ConfigBinder.KeysOf(layer.GetType()))
        {
            var value = key.Property.GetValue(layer);
            if (Neutral.TryGetValue(key.Name, out var neutral))
            {
                if (!Equals(value, neutral)) errors.Add(new SpecError($"{path}.{key.Name}", $"Keras 3 has no {key.Name}; the model cannot be written for it"));
                continue;
            }
            if (value is null && OnlyWhenSet.Contains(key.Name)) continue;
            // Keras 3's Dense leaves activity_regularizer to the base config, which writes it only when set.
            if (value is null && layer is Dense && key.Name == "activity_regularizer") continue;
            if (layer is SpatialDropout1D or SpatialDropout2D && key.Name == "noise_shape" && value is null) continue;
            // Read from tf.keras 2 configs (always 1), but Keras 3's transposed convolutions reject the key.
            if (layer is BaseConvTranspose && key.Name == "groups") continue;
            if (key.Name is "activation" or "recurrent_activation" && value is ActivationRegistry.HardSigmoidKeras2)
            {
                errors.Add(new SpecError($"{path}.{key.Name}", "Keras 2's hard_sigmoid (clip(0.2x + 0.5, 0, 1)) has no Keras 3 equivalent"));
                continue;
            }
            config[key.Name] = Value(value, $"{path}.{key.Name}", errors);
        }
        if (layer is Activation { Function: ActivationRegistry.HardSigmoidKeras2 })
            errors.Add(new SpecError($"{path}.activation", "Keras 2's hard_sigmoid (clip(0.2x + 0.5, 0, 1)) has no Keras 3 equivalent"));
        return new JsonObject
        {
            ["module"] = "keras.layers",
            ["class_name"] = LayerRegistry.NameOf(layer.GetType()),
            ["config"] = config,
            ["registered_name"] = null,
        };
    }

    private static JsonNode? Value(object? value, string path, List<SpecError> errors) => value switch
    {
        null => null,
        Initializer i => InitializerObject(i),
        Regularizer r => RegularizerObject(r),
        NestedLayer n => Serialize(n.Layer, string.IsNullOrEmpty(n.Layer.Name) ? ModelParser.KerasSnakeCase(LayerRegistry.NameOf(n.Layer.GetType())) : n.Layer.Name, $"{path}.config", errors),
        JsonElement e => JsonNode.Parse(e.GetRawText()),
        int[] ints => new JsonArray(ints.Select(v => (JsonNode?)v).ToArray()),
        _ when value.GetType().GetInterfaces().Any(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IConfigValue<>))
            => JsonSerializer.SerializeToNode(value.GetType().GetMethod("Describe")!.Invoke(value, null)),
        _ => JsonSerializer.SerializeToNode(value),
    };

    private static readonly HashSet<string> SeededInitializers =
        ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling"];

    private static JsonObject InitializerObject(Initializer initializer)
    {
        var config = new JsonObject();
        foreach (var (k, v) in initializer.Config) config[k] = v;
        if (initializer.Mode is not null) config["mode"] = initializer.Mode;
        if (initializer.Distribution is not null) config["distribution"] = initializer.Distribution;
        if (SeededInitializers.Contains(initializer.Kind) && !config.ContainsKey("seed")) config["seed"] = null;
        return new JsonObject
        {
            ["module"] = "keras.initializers", ["class_name"] = initializer.Kind, ["config"] = config, ["registered_name"] = null,
        };
    }

    private static JsonObject RegularizerObject(Regularizer r)
    {
        var (cls, config) = (r.L1, r.L2) switch
        {
            (0, var l2) => ("L2", new JsonObject { ["l2"] = l2 }),
            (var l1, 0) => ("L1", new JsonObject { ["l1"] = l1 }),
            var (l1, l2) => ("L1L2", new JsonObject { ["l1"] = l1, ["l2"] = l2 }),
        };
        return new JsonObject { ["module"] = "keras.regularizers", ["class_name"] = cls, ["config"] = config, ["registered_name"] = null };
    }

    private static JsonObject Policy() => new()
    {
        ["module"] = "keras", ["class_name"] = "DTypePolicy", ["config"] = new JsonObject { ["name"] = "float32" }, ["registered_name"] = null,
    };

    private static JsonArray BatchShape(Shape shape) =>
        new([null, .. shape.Dims.Select(d => d < 0 ? null : (JsonNode?)d)]);

    private static JsonObject KerasTensor(TensorRef r, Shape shape, bool integer) => new()
    {
        ["class_name"] = "__keras_tensor__",
        ["config"] = new JsonObject
        {
            ["shape"] = BatchShape(shape), ["dtype"] = integer ? "int32" : "float32", ["keras_history"] = new JsonArray(r.Node, 0, r.Index),
        },
    };
}
