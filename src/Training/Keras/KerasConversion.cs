using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// A Keras document converted to the native model format: <see cref="Model"/> is native model JSON that
/// <see cref="Models.ModelParser"/> has already accepted, <see cref="Compile"/> the file's own compile settings as native
/// compile JSON (null when the file has none), <see cref="Notes"/> every mapping that is not an exact copy.
/// <see cref="Layers"/> says where each native layer came from, for error paths and for reading Keras weights.
/// </summary>
public sealed record KerasConversion(
    JsonObject Model,
    JsonObject? Compile,
    IReadOnlyList<string> Notes,
    KerasVersion Version,
    IReadOnlyList<KerasLayerOrigin> Layers)
{
    /// <summary>The JSON path of the Keras object that declares each model input (an InputLayer, or the first layer
    /// whose batch_input_shape gives it), in input order.</summary>
    public IReadOnlyList<string> InputPaths { get; init; } = [];

    /// <summary>Rewrites a native model path (<c>model.layers[3].units</c>, <c>model.input_shape</c>) into the Keras
    /// document it came from (<c>model.config.layers[4].config.units</c>). Other paths are returned unchanged.</summary>
    public string ToKerasPath(string nativePath, string nativeRoot = "model")
    {
        var root = Regex.Escape(nativeRoot);
        if (InputPaths.Count > 0 && nativePath == $"{nativeRoot}.input_shape") return InputPaths[0];
        var input = Regex.Match(nativePath, $@"^{root}\.inputs\[(\d+)\]");
        if (input.Success && int.TryParse(input.Groups[1].Value, out var k) && k < InputPaths.Count) return InputPaths[k];
        var m = Regex.Match(nativePath, $@"^{root}\.layers\[(\d+)\](.*)$");
        if (!m.Success || !int.TryParse(m.Groups[1].Value, out var i) || i >= Layers.Count) return nativePath;
        var origin = Layers[i];
        var rest = m.Groups[2].Value;
        if (rest.Length == 0) return origin.Path;
        if (rest.StartsWith(".type", StringComparison.Ordinal)) return origin.Path + ".class_name";
        if (rest.StartsWith(".inputs", StringComparison.Ordinal)) return origin.Path + ".inbound_nodes";
        return origin.Path + ".config" + rest;
    }

    public IReadOnlyList<SpecError> ToKerasPaths(IEnumerable<SpecError> errors, string nativeRoot = "model") =>
        errors.Select(e => e with { Path = ToKerasPath(e.Path, nativeRoot) }).ToArray();
}

/// <summary>Where a native layer came from: the JSON path of its Keras layer object, its Keras class, and the HDF5
/// group of its variables in a Keras 3 <c>model.weights.h5</c> (<c>layers/dense_1</c>).</summary>
public sealed record KerasLayerOrigin(string NativeName, string ClassName, string Path, string WeightsPath)
{
    /// <summary>The name of the outermost model's layer holding this layer's weights in name-keyed formats (legacy HDF5
    /// <c>model_weights/&lt;name&gt;</c>, TF.js <c>&lt;name&gt;/kernel</c>): the Keras layer name, or that of the nested model
    /// it sits in. Empty when unknown (then the native name is used).</summary>
    public string LegacyGroup { get; init; } = "";

    /// <summary>For a layer inside a nested model: the names of the models nested below <see cref="LegacyGroup"/>'s, then
    /// the layer's own Keras name (<c>["dense"]</c>, <c>["inner", "dense"]</c>); empty for the outer model's own layers.
    /// Name-keyed formats name such weights by scope (<c>sequential_1/dense/kernel:0</c>, or <c>dense/kernel:0</c> when the
    /// nested model was built on its own), and list a nested model's trainable weights before its non-trainable ones, so
    /// these names pick a layer's weights out of its group, not their order.</summary>
    public IReadOnlyList<string> NestedScope { get; init; } = [];
}

/// <summary>Which Keras wrote a file; decides the meaning of keys whose meaning or default changed between versions.</summary>
public sealed record KerasVersion(int Major, int Minor, bool TensorFlow, string Text)
{
    public static readonly KerasVersion Keras3 = new(3, 0, false, "3");

    /// <summary>Keras 1 and 2 computed hard_sigmoid as clip(0.2x + 0.5, 0, 1); Keras 3 as relu6(x + 3) / 6.</summary>
    public bool Keras2HardSigmoid => Major < 3;

    /// <summary>Standalone Keras up to 2.2.5 defaulted LSTM/GRU recurrent_activation to hard_sigmoid.</summary>
    public bool HardSigmoidRecurrentDefault => Major < 2 || Major == 2 && !TensorFlow && Minor < 3;

    /// <summary>GRU reset_after defaulted to False in standalone Keras (≤ 2.3) and True in tf.keras 2 and Keras 3.</summary>
    public bool ResetAfterDefault => Major >= 3 || TensorFlow || Major == 2 && Minor >= 4;

    /// <summary>Keras ≤ 2.15 restored EarlyStopping's best weights only when it stopped training early.</summary>
    public bool LegacyRestoreBestWeights => Major < 3 && !(TensorFlow && Minor >= 16);

    public static KerasVersion Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return Keras3;
        if (text.StartsWith("tfjs", StringComparison.OrdinalIgnoreCase)) return new KerasVersion(2, 4, true, text);
        var m = Regex.Match(text, @"^(\d+)\.(\d+)");
        if (!m.Success) return new KerasVersion(2, 4, true, text);
        var major = int.Parse(m.Groups[1].Value);
        var minor = int.Parse(m.Groups[2].Value);
        // tf.keras writes "2.x.y-tf"; tf-keras and Keras ≥ 2.6 (split out of TensorFlow) are tf.keras too.
        var tf = text.Contains("-tf", StringComparison.Ordinal) || major == 2 && minor >= 5;
        return new KerasVersion(major, minor, tf, text);
    }
}
