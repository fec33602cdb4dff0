using TrainingService.Training.Layers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Layers;

/// <summary>
/// Keras's layer_test for every registered layer: parse the config, infer shapes and parameter counts, build with a
/// seeded generator, run a batch of 2 in training and in inference, and check the real outputs and the module's
/// parameters against what was inferred. A layer type without a case here fails <see cref="Cases_CoverEveryRegisteredLayer"/>.
/// </summary>
public class LayerHarnessTests
{
    /// <param name="Json">The layer config.</param>
    /// <param name="Inputs">Per-example input shapes; -1 (variable) runs as 5.</param>
    /// <param name="IntegerInput">Feed random indices below 10 (Embedding) instead of normal floats.</param>
    /// <param name="Masked">Run with a mask whose first example has its first two steps padded.</param>
    public sealed record Case(string Json, int[][] Inputs, bool IntegerInput = false, bool Masked = false);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["Dense"] = new("""{"type": "Dense", "units": 4, "activation": "relu"}""", [[3]]),
        ["Dense on a sequence"] = new("""{"type": "Dense", "units": 4}""", [[6, 3]]),
        ["Activation"] = new("""{"type": "Activation", "activation": "softmax"}""", [[3]]),
        ["Dropout"] = new("""{"type": "Dropout", "rate": 0.5}""", [[4, 3]]),
        ["SpatialDropout1D"] = new("""{"type": "SpatialDropout1D", "rate": 0.5}""", [[6, 3]]),
        ["SpatialDropout2D"] = new("""{"type": "SpatialDropout2D", "rate": 0.5}""", [[4, 4, 3]]),
        ["Flatten"] = new("""{"type": "Flatten"}""", [[4, 4, 3]]),
        ["Reshape"] = new("""{"type": "Reshape", "target_shape": [-1, 6]}""", [[4, 3]]),
        ["Permute"] = new("""{"type": "Permute", "dims": [2, 1]}""", [[4, 3]]),
        ["RepeatVector"] = new("""{"type": "RepeatVector", "n": 3}""", [[4]]),
        ["Rescaling"] = new("""{"type": "Rescaling", "scale": 0.00392156862745098, "offset": -1}""", [[4, 4, 3]]),
        ["Conv1D"] = new("""{"type": "Conv1D", "filters": 4, "kernel_size": 3}""", [[7, 2]]),
        ["Conv1D same stride 2"] = new("""{"type": "Conv1D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}""", [[7, 2]]),
        ["Conv1D causal dilated"] = new("""{"type": "Conv1D", "filters": 4, "kernel_size": 2, "dilation_rate": 2, "padding": "causal"}""", [[7, 2]]),
        ["Conv2D"] = new("""{"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"}""", [[6, 5, 2]]),
        ["Conv2D same stride 2"] = new("""{"type": "Conv2D", "filters": 4, "kernel_size": [3, 2], "strides": 2, "padding": "same"}""", [[7, 6, 2]]),
        ["Conv2DTranspose"] = new("""{"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "strides": 2}""", [[4, 5, 2]]),
        ["Conv2DTranspose same"] = new("""{"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}""", [[4, 5, 2]]),
        ["Conv2DTranspose stride > kernel"] = new("""{"type": "Conv2DTranspose", "filters": 3, "kernel_size": 2, "strides": 3}""", [[4, 5, 2]]),
        ["Conv2DTranspose output_padding"] = new("""{"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1}""", [[4, 5, 2]]),
        ["Conv1D groups"] = new("""{"type": "Conv1D", "filters": 4, "kernel_size": 3, "groups": 2}""", [[7, 4]]),
        ["Conv2D groups same"] = new("""{"type": "Conv2D", "filters": 6, "kernel_size": 3, "groups": 3, "padding": "same"}""", [[5, 4, 3]]),
        ["Conv3D"] = new("""{"type": "Conv3D", "filters": 2, "kernel_size": [2, 3, 2], "strides": [1, 2, 1], "padding": "same"}""", [[3, 5, 4, 2]]),
        ["Conv1DTranspose"] = new("""{"type": "Conv1DTranspose", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}""", [[5, 2]]),
        ["DepthwiseConv1D"] = new("""{"type": "DepthwiseConv1D", "kernel_size": 3, "depth_multiplier": 2}""", [[7, 3]]),
        ["DepthwiseConv2D"] = new("""{"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}""", [[6, 5, 3]]),
        ["SeparableConv1D"] = new("""{"type": "SeparableConv1D", "filters": 4, "kernel_size": 3, "depth_multiplier": 2, "dilation_rate": 2}""", [[9, 3]]),
        ["SeparableConv2D"] = new("""{"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "padding": "same", "use_bias": false}""", [[5, 4, 3]]),
        ["Resizing"] = new("""{"type": "Resizing", "height": 3, "width": 5}""", [[6, 4, 2]]),
        ["Resizing nearest, crop to aspect ratio"] = new("""{"type": "Resizing", "height": 2, "width": 2, "interpolation": "nearest", "crop_to_aspect_ratio": true}""", [[6, 4, 2]]),
        ["CenterCrop"] = new("""{"type": "CenterCrop", "height": 3, "width": 2}""", [[5, 4, 2]]),
        ["CenterCrop of a smaller image"] = new("""{"type": "CenterCrop", "height": 6, "width": 6}""", [[5, 4, 2]]),
        ["RandomCrop"] = new("""{"type": "RandomCrop", "height": 3, "width": 2}""", [[5, 4, 2]]),
        ["RandomFlip"] = new("""{"type": "RandomFlip"}""", [[5, 4, 2]]),
        ["RandomRotation"] = new("""{"type": "RandomRotation", "factor": 0.2, "fill_mode": "constant", "fill_value": 1}""", [[5, 4, 2]]),
        ["RandomZoom"] = new("""{"type": "RandomZoom", "height_factor": 0.2, "width_factor": [-0.3, 0.1], "fill_mode": "wrap", "interpolation": "nearest"}""", [[5, 4, 2]]),
        ["RandomTranslation"] = new("""{"type": "RandomTranslation", "height_factor": 0.2, "width_factor": 0.2, "fill_mode": "nearest"}""", [[5, 4, 2]]),
        ["RandomContrast"] = new("""{"type": "RandomContrast", "factor": 0.3}""", [[5, 4, 2]]),
        ["MaxPooling1D"] = new("""{"type": "MaxPooling1D"}""", [[7, 3]]),
        ["MaxPooling1D same"] = new("""{"type": "MaxPooling1D", "pool_size": 3, "strides": 2, "padding": "same"}""", [[7, 3]]),
        ["MaxPooling2D"] = new("""{"type": "MaxPooling2D", "pool_size": [2, 2]}""", [[5, 4, 3]]),
        ["AveragePooling1D"] = new("""{"type": "AveragePooling1D", "pool_size": 2}""", [[7, 3]]),
        ["AveragePooling2D"] = new("""{"type": "AveragePooling2D", "pool_size": 2}""", [[5, 4, 3]]),
        ["AveragePooling2D same"] = new("""{"type": "AveragePooling2D", "pool_size": 3, "strides": 2, "padding": "same"}""", [[5, 4, 3]]),
        ["GlobalAveragePooling1D"] = new("""{"type": "GlobalAveragePooling1D"}""", [[6, 3]]),
        ["GlobalAveragePooling1D masked"] = new("""{"type": "GlobalAveragePooling1D"}""", [[6, 3]], Masked: true),
        ["GlobalAveragePooling2D"] = new("""{"type": "GlobalAveragePooling2D", "keepdims": true}""", [[4, 4, 3]]),
        ["GlobalMaxPooling1D"] = new("""{"type": "GlobalMaxPooling1D", "keepdims": true}""", [[6, 3]]),
        ["GlobalMaxPooling2D"] = new("""{"type": "GlobalMaxPooling2D"}""", [[4, 4, 3]]),
        ["UpSampling2D"] = new("""{"type": "UpSampling2D", "size": [2, 3]}""", [[3, 2, 2]]),
        ["UpSampling2D bilinear"] = new("""{"type": "UpSampling2D", "interpolation": "bilinear"}""", [[3, 2, 2]]),
        ["ZeroPadding2D"] = new("""{"type": "ZeroPadding2D", "padding": [[1, 2], [0, 3]]}""", [[3, 2, 2]]),
        ["BatchNormalization"] = new("""{"type": "BatchNormalization"}""", [[4, 4, 3]]),
        ["BatchNormalization axis list"] = new("""{"type": "BatchNormalization", "axis": [1], "center": false}""", [[5, 3]]),
        ["LayerNormalization"] = new("""{"type": "LayerNormalization"}""", [[5, 3]]),
        ["LayerNormalization two axes"] = new("""{"type": "LayerNormalization", "axis": [1, 3]}""", [[4, 2, 3]]),
        ["LayerNormalization rms"] = new("""{"type": "LayerNormalization", "rms_scaling": true}""", [[5, 3]]),
        ["Embedding"] = new("""{"type": "Embedding", "input_dim": 10, "output_dim": 4, "mask_zero": true}""", [[6]], IntegerInput: true),
        ["LSTM"] = new("""{"type": "LSTM", "units": 4}""", [[6, 3]]),
        ["LSTM masked sequences"] = new("""{"type": "LSTM", "units": 4, "return_sequences": true, "return_state": true}""", [[6, 3]], Masked: true),
        ["LSTM backwards, recurrent dropout"] = new("""{"type": "LSTM", "units": 4, "go_backwards": true, "recurrent_dropout": 0.3, "dropout": 0.2}""", [[6, 3]]),
        ["LSTM variable length"] = new("""{"type": "LSTM", "units": 4, "return_sequences": true}""", [[-1, 3]]),
        ["SimpleRNN"] = new("""{"type": "SimpleRNN", "units": 4, "return_sequences": true}""", [[6, 3]]),
        ["SimpleRNN relu masked"] = new("""{"type": "SimpleRNN", "units": 4, "activation": "relu", "return_state": true}""", [[6, 3]], Masked: true),
        ["SimpleRNN selu dropout"] = new("""{"type": "SimpleRNN", "units": 4, "activation": "selu", "dropout": 0.2, "recurrent_dropout": 0.2}""", [[6, 3]]),
        ["GRU"] = new("""{"type": "GRU", "units": 4}""", [[6, 3]]),
        ["GRU sequences and state, masked"] = new("""{"type": "GRU", "units": 4, "return_sequences": true, "return_state": true}""", [[6, 3]], Masked: true),
        ["GRU reset_before, no bias"] = new("""{"type": "GRU", "units": 4, "reset_after": false, "use_bias": false, "go_backwards": true}""", [[6, 3]]),
        ["GRU reset_before, hard_sigmoid"] = new("""{"type": "GRU", "units": 4, "reset_after": false, "recurrent_activation": "hard_sigmoid", "recurrent_dropout": 0.25}""", [[6, 3]]),
        ["Bidirectional"] = new("""{"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4, "return_sequences": true}}""", [[6, 3]]),
        ["Bidirectional masked GRU sum"] = new("""{"type": "Bidirectional", "merge_mode": "sum", "layer": {"type": "GRU", "units": 4, "return_sequences": true}}""", [[6, 3]], Masked: true),
        ["Bidirectional no merge, states"] = new("""{"type": "Bidirectional", "merge_mode": null, "layer": {"type": "LSTM", "units": 4, "return_state": true}}""", [[6, 3]]),
        ["Bidirectional Keras form"] = new("""{"type": "Bidirectional", "merge_mode": "ave", "layer": {"module": "keras.layers", "class_name": "SimpleRNN", "config": {"name": "rnn", "units": 4, "trainable": true, "dtype": "float32"}, "registered_name": null}}""", [[6, 3]]),
        ["TimeDistributed Dense"] = new("""{"type": "TimeDistributed", "layer": {"type": "Dense", "units": 5, "activation": "softmax"}}""", [[6, 3]]),
        ["TimeDistributed Conv2D"] = new("""{"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 2, "kernel_size": 2}}""", [[3, 4, 4, 1]]),
        ["TimeDistributed BatchNormalization"] = new("""{"type": "TimeDistributed", "layer": {"type": "BatchNormalization"}}""", [[3, 4]]),
        ["Concatenate"] = new("""{"type": "Concatenate"}""", [[4, 3], [4, 2], [4, 1]]),
        ["Concatenate axis 1"] = new("""{"type": "Concatenate", "axis": 1}""", [[4, 3], [2, 3]]),
        ["Add"] = new("""{"type": "Add"}""", [[4, 3], [4, 3], [4, 3]]),
        ["Add broadcast"] = new("""{"type": "Add"}""", [[4, 3], [3]]),
        ["Subtract"] = new("""{"type": "Subtract"}""", [[4, 3], [4, 1]]),
        ["Multiply"] = new("""{"type": "Multiply"}""", [[4, 3], [4, 3]]),
        ["Average"] = new("""{"type": "Average"}""", [[4, 3], [4, 3]]),
        ["Maximum"] = new("""{"type": "Maximum"}""", [[4, 3], [1, 3]]),
        ["Minimum"] = new("""{"type": "Minimum"}""", [[4, 3], [4, 3]]),
        ["Dot"] = new("""{"type": "Dot", "axes": 1}""", [[4], [4]]),
        ["Dot sequences, normalized"] = new("""{"type": "Dot", "axes": [2, 2], "normalize": true}""", [[3, 4], [5, 4]]),
        ["LeakyReLU"] = new("""{"type": "LeakyReLU", "negative_slope": 0.1}""", [[4, 3]]),
        ["ReLU"] = new("""{"type": "ReLU", "max_value": 6, "negative_slope": 0.1, "threshold": 0.5}""", [[4, 3]]),
        ["PReLU"] = new("""{"type": "PReLU", "shared_axes": [1]}""", [[4, 3]]),
        ["ELU"] = new("""{"type": "ELU", "alpha": 0.5}""", [[4, 3]]),
        ["Softmax"] = new("""{"type": "Softmax", "axis": 1}""", [[4, 3]]),
        ["ThresholdedReLU"] = new("""{"type": "ThresholdedReLU", "theta": 0.5}""", [[4, 3]]),
        ["GaussianNoise"] = new("""{"type": "GaussianNoise", "stddev": 0.1}""", [[4, 3]]),
        ["GaussianDropout"] = new("""{"type": "GaussianDropout", "rate": 0.3}""", [[4, 3]]),
        ["AlphaDropout"] = new("""{"type": "AlphaDropout", "rate": 0.3}""", [[4, 3]]),
        ["ActivityRegularization"] = new("""{"type": "ActivityRegularization", "l1": 0.01}""", [[4, 3]]),
        ["UnitNormalization"] = new("""{"type": "UnitNormalization"}""", [[4, 3]]),
        ["GroupNormalization"] = new("""{"type": "GroupNormalization", "groups": 2}""", [[4, 4, 6]]),
        ["Normalization"] = new("""{"type": "Normalization"}""", [[4, 3]]),
        ["Normalization given"] = new("""{"type": "Normalization", "axis": null, "mean": 1.5, "variance": 4, "invert": true}""", [[4, 3]]),
        ["Masking"] = new("""{"type": "Masking", "mask_value": 0.0}""", [[6, 3]]),
        ["Cropping1D"] = new("""{"type": "Cropping1D", "cropping": [1, 2]}""", [[6, 3]]),
        ["Cropping2D"] = new("""{"type": "Cropping2D", "cropping": [[1, 0], [0, 2]]}""", [[4, 5, 2]]),
        ["UpSampling1D"] = new("""{"type": "UpSampling1D", "size": 3}""", [[4, 2]]),
        ["ZeroPadding1D"] = new("""{"type": "ZeroPadding1D", "padding": [1, 2]}""", [[4, 2]]),
        ["MultiHeadAttention"] = new("""{"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3}""", [[5, 4], [6, 4]]),
        ["MultiHeadAttention self, value_dim, dropout"] = new("""{"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3, "value_dim": 2, "dropout": 0.1, "output_shape": [5]}""", [[5, 4]]),
        ["MultiHeadAttention with key, no bias"] = new("""{"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 2, "use_bias": false}""", [[5, 4], [6, 3], [6, 2]]),
        ["Attention"] = new("""{"type": "Attention", "use_scale": true}""", [[5, 4], [6, 4]]),
        ["Attention concat with key"] = new("""{"type": "Attention", "score_mode": "concat", "dropout": 0.2}""", [[5, 4], [6, 3], [6, 4]]),
        ["AdditiveAttention"] = new("""{"type": "AdditiveAttention"}""", [[5, 4], [6, 4]]),
        ["PositionEmbedding"] = new("""{"type": "PositionEmbedding", "sequence_length": 8}""", [[6, 4]]),
        ["TokenAndPositionEmbedding"] = new("""{"type": "TokenAndPositionEmbedding", "vocabulary_size": 10, "sequence_length": 8, "embedding_dim": 4}""", [[6]], IntegerInput: true),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Fact]
    public void Cases_CoverEveryRegisteredLayer()
    {
        var covered = Cases.Values.Select(c => LayerRegistry.NameOf(LayerTestKit.Parse(c.Json).GetType())).ToHashSet();
        var missing = LayerRegistry.Names.Where(n => n != "InputLayer" && !covered.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"no harness case for: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Layer_InfersTheShapesAndParameterCounts_ItsModuleProduces(string name)
    {
        var c = Cases[name];
        var layer = LayerTestKit.Parse(c.Json);
        var shapes = c.Inputs.Select(d => new Shape(d)).ToArray();
        var expected = layer.OutputShapes(shapes);
        var (trainable, nonTrainable) = layer.CountParameters(shapes);
        using var scope = NewDisposeScope();
        using var module = LayerTestKit.Build(layer, shapes);

        var parameters = module.parameters().ToList();
        Assert.Equal(trainable, parameters.Where(p => p.requires_grad).Sum(p => p.numel()));
        Assert.Equal(nonTrainable, module.buffers().Sum(b => b.numel()));

        var gen = new Generator(3);
        var inputs = c.Inputs.Select(d =>
        {
            long[] dims = [2, .. d.Select(x => x < 0 ? 5L : x)];
            return c.IntegerInput ? randint(0, 10, dims, ScalarType.Int64, generator: gen) : randn(dims, generator: gen);
        }).ToArray();
        Tensor? mask = null;
        if (c.Masked)
        {
            mask = ones(2, inputs[0].shape[1], ScalarType.Bool);
            mask[0, ..2] = false;
        }
        foreach (var training in new[] { true, false })
        {
            var outputs = LayerTestKit.Run(module, inputs, training, mask);
            Assert.Equal(expected.Length, outputs.Length);
            for (var i = 0; i < outputs.Length; i++)
            {
                var want = expected[i].Dims;
                var got = outputs[i].shape;
                Assert.True(got.Length == want.Length + 1 && got[0] == 2 && want.Zip(got.Skip(1)).All(p => p.First < 0 || p.First == p.Second),
                    $"{name} ({(training ? "training" : "inference")}) output {i}: inferred {expected[i]}, module gave ({string.Join(", ", got.Skip(1))})");
                Assert.False(outputs[i].isnan().any().item<bool>(), $"{name} output {i} has NaN");
            }
            if (training && parameters.Any(p => p.requires_grad))
            {
                // Every trainable parameter takes part: a loss on the outputs reaches it.
                var loss = outputs.Select(o => o.to(ScalarType.Float32).square().sum()).Aggregate((a, b) => a + b);
                loss.backward();
                foreach (var (pname, p) in module.named_parameters().Where(p => p.parameter.requires_grad))
                    Assert.True(p.grad is not null, $"{name}: parameter {pname} gets no gradient");
                module.zero_grad();
            }
        }
    }
}
