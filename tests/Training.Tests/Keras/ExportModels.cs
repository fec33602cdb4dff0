using TrainingService.Training.Engine;
using TrainingService.Training.Layers;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Keras;

/// <summary>Small models of each family the exports must carry, with non-trivial weights (BatchNormalization's moving
/// statistics set away from 0/1, as after training), and inputs to predict.</summary>
public static class ExportModels
{
    public const string Mlp = """
        {"input_shape": [6], "layers": [
          {"type": "Dense", "units": 8, "activation": "relu"},
          {"type": "Dropout", "rate": 0.3},
          {"type": "Dense", "units": 5, "activation": "tanh"},
          {"type": "Dense", "units": 3, "activation": "softmax"}]}
        """;

    public const string Cnn = """
        {"input_shape": [8, 8, 2], "layers": [
          {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
          {"type": "BatchNormalization"},
          {"type": "MaxPooling2D", "pool_size": 2},
          {"type": "Conv2D", "filters": 3, "kernel_size": 2, "strides": 1},
          {"type": "AveragePooling2D", "pool_size": 2, "padding": "same"},
          {"type": "Flatten"},
          {"type": "Dropout", "rate": 0.5},
          {"type": "Dense", "units": 3, "activation": "softmax"}]}
        """;

    public const string Lstm = """
        {"input_shape": [7], "layers": [
          {"type": "Embedding", "input_dim": 12, "output_dim": 4},
          {"type": "LSTM", "units": 5, "return_sequences": true},
          {"type": "LSTM", "units": 3},
          {"type": "Dense", "units": 2, "activation": "sigmoid"}]}
        """;

    public const string Gru = """
        {"input_shape": [6, 3], "layers": [
          {"type": "GRU", "units": 4, "return_sequences": true},
          {"type": "SimpleRNN", "units": 3},
          {"type": "Dense", "units": 2}]}
        """;

    public const string GruResetBefore = """
        {"input_shape": [6, 3], "layers": [
          {"type": "GRU", "units": 4, "reset_after": false},
          {"type": "Dense", "units": 2}]}
        """;

    public const string ConvFamily2D = """
        {"input_shape": [8, 8, 4], "layers": [
          {"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 2, "padding": "same", "activation": "relu"},
          {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"},
          {"type": "SeparableConv2D", "filters": 3, "kernel_size": 2, "depth_multiplier": 2, "activation": "tanh"},
          {"type": "Flatten"},
          {"type": "Dense", "units": 2}]}
        """;

    /// <summary>The 2-D convolutions TensorFlow.js has (no groups there).</summary>
    public const string DepthwiseSeparable2D = """
        {"input_shape": [7, 6, 3], "layers": [
          {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "activation": "relu"},
          {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
          {"type": "Flatten"},
          {"type": "Dense", "units": 2}]}
        """;

    public const string ConvFamily1D = """
        {"input_shape": [9, 3], "layers": [
          {"type": "Conv1D", "filters": 4, "kernel_size": 3, "padding": "causal", "groups": 1},
          {"type": "DepthwiseConv1D", "kernel_size": 2, "depth_multiplier": 2},
          {"type": "SeparableConv1D", "filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
          {"type": "Conv1D", "filters": 4, "kernel_size": 2, "groups": 2},
          {"type": "GlobalAveragePooling1D"},
          {"type": "Dense", "units": 2}]}
        """;

    public const string Conv3D = """
        {"input_shape": [4, 5, 4, 2], "layers": [
          {"type": "Conv3D", "filters": 3, "kernel_size": 2, "strides": [1, 2, 1], "padding": "same", "activation": "relu"},
          {"type": "Flatten"},
          {"type": "Dense", "units": 2}]}
        """;

    /// <summary>Augmentation (identity in inference) in front of a small CNN.</summary>
    public const string Augmented = """
        {"input_shape": [6, 6, 2], "layers": [
          {"type": "RandomFlip"},
          {"type": "RandomRotation", "factor": 0.1},
          {"type": "RandomZoom", "height_factor": 0.1},
          {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
          {"type": "RandomContrast", "factor": 0.2},
          {"type": "Conv2D", "filters": 2, "kernel_size": 3},
          {"type": "Flatten"},
          {"type": "Dense", "units": 2}]}
        """;

    public const string Transformer = """
        {"input_shape": [6], "layers": [
          {"type": "TokenAndPositionEmbedding", "vocabulary_size": 12, "sequence_length": 6, "embedding_dim": 8},
          {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4},
          {"type": "LayerNormalization"},
          {"type": "GlobalAveragePooling1D"},
          {"type": "Dense", "units": 2}]}
        """;

    public const string AttentionLayers = """
        {"inputs": [{"name": "x", "shape": [5, 4]}], "layers": [
          {"type": "Dense", "name": "q", "units": 4, "inputs": ["x"]},
          {"type": "Attention", "name": "att", "use_scale": true, "score_mode": "concat", "inputs": ["q", "x"]},
          {"type": "AdditiveAttention", "name": "additive", "inputs": ["q", "x"]},
          {"type": "Concatenate", "name": "cat", "inputs": ["att", "additive"]},
          {"type": "Flatten", "name": "flat", "inputs": ["cat"]},
          {"type": "Dense", "name": "out", "units": 2, "inputs": ["flat"]}],
         "outputs": ["out"]}
        """;

    public const string NormalizationAndPReLU = """
        {"input_shape": [6, 4], "layers": [
          {"type": "PositionEmbedding", "sequence_length": 6},
          {"type": "Conv1D", "filters": 4, "kernel_size": 3, "padding": "same"},
          {"type": "GroupNormalization", "groups": 2},
          {"type": "PReLU", "alpha_initializer": {"class_name": "Constant", "config": {"value": 0.2}}},
          {"type": "Flatten"},
          {"type": "Dense", "units": 2}]}
        """;

    public const string Resized = """
        {"input_shape": [9, 8, 2], "layers": [
          {"type": "CenterCrop", "height": 7, "width": 8},
          {"type": "Resizing", "height": 6, "width": 11},
          {"type": "Resizing", "height": 4, "width": 4, "interpolation": "nearest", "crop_to_aspect_ratio": true},
          {"type": "CenterCrop", "height": 5, "width": 6},
          {"type": "RandomCrop", "height": 3, "width": 3},
          {"type": "Conv2D", "filters": 2, "kernel_size": 2},
          {"type": "Flatten"},
          {"type": "Dense", "units": 2}]}
        """;

    /// <summary>Normalization as adapted (per feature, over everything, inverted) and with its statistics in the config
    /// (then Keras stores no variables for it).</summary>
    public const string Normalized = """
        {"input_shape": [3, 4], "layers": [
          {"type": "Normalization"},
          {"type": "Normalization", "axis": null},
          {"type": "Flatten"},
          {"type": "Dense", "units": 3, "activation": "tanh"},
          {"type": "Normalization", "name": "given", "mean": [0.5, -0.2, 0.1], "variance": [2.0, 0.5, 0.25]},
          {"type": "Normalization", "invert": true},
          {"type": "Dense", "units": 2}]}
        """;

    private const string Compile = """{"optimizer": "adam", "loss": "mse"}""";

    /// <summary>The plan and a session whose weights are seeded values, BatchNormalization statistics included.</summary>
    public static (TrainingPlan Plan, ModelSession Session) Build(string model)
    {
        var plan = SpecFiles.Plan(model, Compile, """{"seed": 3}""");
        using var fresh = ModelSession.Create(plan);
        using var ms = new MemoryStream(fresh.SaveWeights());
        var state = TensorArchive.Read(ms);
        using var rng = new Generator(11);
        // An adapted Normalization's statistics are set as adapt would leave them; those given in the config stay.
        var adapted = plan.Model.Layers.Where(n => n.Layer is Normalization { HasConfigStatistics: false }).Select(n => n.Name).ToHashSet();
        foreach (var key in state.Keys.ToList())
        {
            if (adapted.Contains(key[..key.IndexOf('.')]))
            {
                state[key] = key.EndsWith(".mean", StringComparison.Ordinal) ? rand(state[key].shape, generator: rng) - 0.5 : rand(state[key].shape, generator: rng) + 0.5;
                continue;
            }
            if (key.EndsWith("moving_mean", StringComparison.Ordinal)) state[key] = rand(state[key].shape, generator: rng) - 0.5;
            else if (key.EndsWith("moving_variance", StringComparison.Ordinal)) state[key] = rand(state[key].shape, generator: rng) + 0.5;
            // LSTM's bias_hh stays zero in the engine (Keras has one bias; it lives in bias_ih); GRU's is trained.
            else if (key.Contains(".lstm.bias_hh", StringComparison.Ordinal)) continue;
            else if (key.EndsWith("bias", StringComparison.Ordinal) || key.EndsWith("beta", StringComparison.Ordinal) || key.Contains("bias_"))
                state[key] = (rand(state[key].shape, generator: rng) - 0.5) * 0.4;   // zero-initialised otherwise
        }
        var weights = TensorArchive.ToBytes(state.Select(kv => (kv.Key, kv.Value)));
        foreach (var t in state.Values) t.Dispose();
        return (plan, ModelSession.Restore(plan, weights));
    }

    public static Dictionary<string, Tensor> State(ModelSession session)
    {
        using var ms = new MemoryStream(session.SaveWeights());
        return TensorArchive.Read(ms);
    }

    /// <summary>A batch of inputs for the model: token ids for an integer input, values in [-1, 1] otherwise.</summary>
    public static (float[] Data, long[] Shape, bool Integer) Input(TrainingPlan plan, int batch = 4)
    {
        var input = plan.Model.Inputs[0];
        long[] shape = [batch, .. input.Shape.Dims.Select(d => (long)d)];
        var n = (int)shape.Aggregate(1L, (a, d) => a * d);
        var integer = input.IsInteger;
        var data = Enumerable.Range(0, n).Select(i => integer ? (float)((i * 7 + 3) % 12) : (float)Math.Sin(0.37 * i + 0.5)).ToArray();
        return (data, shape, integer);
    }

    public static float[] Predict(ModelSession session, (float[] Data, long[] Shape, bool Integer) x)
    {
        using var scope = NewDisposeScope();
        var t = x.Integer ? tensor(x.Data.Select(v => (long)v).ToArray(), x.Shape) : tensor(x.Data, x.Shape);
        return session.Predict([t])[0].data<float>().ToArray();
    }
}
