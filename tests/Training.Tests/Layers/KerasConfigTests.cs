using TrainingService.Training.Layers;

namespace TrainingService.Training.Tests.Layers;

/// <summary>Configs as Keras 3 and tf.keras write them (every key, nulls included) parse to the same layers.</summary>
public class KerasConfigTests
{
    [Fact]
    public void BatchNormalization_Keras3Config_Parses()
    {
        var bn = LayerTestKit.Parse<BatchNormalization>("""
            {"type": "BatchNormalization", "name": "bn", "trainable": true, "dtype": "float32", "axis": -1, "momentum": 0.99,
             "epsilon": 0.001, "center": true, "scale": true, "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
             "gamma_initializer": "ones", "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
             "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null, "synchronized": false}
            """);
        Assert.Equal("bn", bn.Name);
        Assert.Equal(0.99, bn.Momentum);
    }

    [Fact]
    public void BatchNormalization_TfKerasConfig_WithAxisListAndRenormKeys_Parses()
    {
        var bn = LayerTestKit.Parse<BatchNormalization>("""
            {"type": "BatchNormalization", "axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
             "renorm": false, "renorm_clipping": null, "renorm_momentum": 0.99}
            """);
        Assert.Equal([3], bn.Axis.Values);
    }

    [Fact]
    public void AConstraintThatIsSet_IsRejectedAtItsKey()
    {
        var errors = LayerTestKit.ParseErrors("""{"type": "Conv1D", "filters": 2, "kernel_size": 3, "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2}}}""");
        Assert.Contains(errors, e => e.ToString().Contains("layer.kernel_constraint"));
    }

    [Fact]
    public void Conv1D_Keras3Config_Parses()
    {
        var conv = LayerTestKit.Parse<Conv1D>("""
            {"type": "Conv1D", "filters": 8, "kernel_size": [3], "strides": [1], "padding": "causal", "data_format": "channels_last",
             "dilation_rate": [2], "groups": 1, "activation": "relu", "use_bias": true, "kernel_initializer": "glorot_uniform",
             "bias_initializer": "zeros", "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
             "kernel_constraint": null, "bias_constraint": null}
            """);
        Assert.Equal(new Shape(10, 8), conv.OutputShapes([new Shape(10, 4)])[0]);
    }

    [Fact]
    public void SpatialDropout1D_TfKerasConfig_WithNullNoiseShape_Parses()
    {
        LayerTestKit.Parse<SpatialDropout1D>("""{"type": "SpatialDropout1D", "rate": 0.2, "noise_shape": null, "seed": null}""");
    }

    [Fact]
    public void TimeDistributed_KerasNestedForm_Parses()
    {
        var td = LayerTestKit.Parse<TimeDistributed>("""
            {"type": "TimeDistributed", "layer": {"module": "keras.layers", "class_name": "Dense",
             "config": {"name": "dense", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
                        "units": 3, "activation": "softmax", "use_bias": true}, "registered_name": null, "build_config": {"input_shape": [null, 4]}}}
            """);
        Assert.Equal(new Shape(7, 3), td.OutputShapes([new Shape(7, 4)])[0]);
    }

    [Fact]
    public void Bidirectional_Keras3Config_WithItsBackwardLayer_Parses()
    {
        var bi = LayerTestKit.Parse<Bidirectional>("""
            {"type": "Bidirectional", "name": "bidirectional", "merge_mode": "concat",
             "layer": {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "forward_lstm", "units": 5, "return_sequences": true, "go_backwards": false, "zero_output_for_mask": false}, "registered_name": null},
             "backward_layer": {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "backward_lstm", "units": 5, "return_sequences": true, "go_backwards": true, "zero_output_for_mask": false}, "registered_name": null}}
            """);
        Assert.Equal(new Shape(7, 10), bi.OutputShapes([new Shape(7, 3)])[0]);
        using var module = LayerTestKit.Build(bi, new Shape(7, 3));
        Assert.Contains(module.named_parameters(), p => p.name.StartsWith("backward_layer.", StringComparison.Ordinal));
    }

    [Fact]
    public void Bidirectional_BackwardLayerReadingForwards_IsAConfigError()
    {
        var errors = LayerTestKit.ParseErrors("""
            {"type": "Bidirectional", "layer": {"type": "GRU", "units": 5}, "backward_layer": {"type": "GRU", "units": 5}}
            """);
        Assert.Contains(errors, e => e.ToString().Contains("backward_layer.go_backwards"));
    }
}
