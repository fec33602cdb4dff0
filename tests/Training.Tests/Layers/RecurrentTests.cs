using TrainingService.Training.Layers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Layers;

public class RecurrentTests
{
    private static readonly float[] Steps = [0.5f, -1.0f, 0.25f, 1.5f, 0.75f, -0.5f];

    /// <summary>Keras's GRU equations, step by step, on Keras-layout weights (gates [z|r|h] in columns).</summary>
    private static Tensor KerasGru(Tensor x, Tensor kernel, Tensor recurrent, Tensor bias, bool resetAfter, int u)
    {
        var h = zeros(x.shape[0], u);
        var outputs = new List<Tensor>();
        Tensor Cols(Tensor w, int gate) => w.narrow(-1, gate * u, u);
        var inputBias = resetAfter ? bias[0] : bias;
        for (var t = 0; t < x.shape[1]; t++)
        {
            var xt = x.select(1, t);
            var (xz, xr, xh) = (xt.matmul(Cols(kernel, 0)) + Cols(inputBias, 0), xt.matmul(Cols(kernel, 1)) + Cols(inputBias, 1), xt.matmul(Cols(kernel, 2)) + Cols(inputBias, 2));
            Tensor z, r, hh;
            if (resetAfter)
            {
                var inner = h.matmul(recurrent) + bias[1];
                z = (xz + Cols(inner, 0)).sigmoid();
                r = (xr + Cols(inner, 1)).sigmoid();
                hh = (xh + r * Cols(inner, 2)).tanh();
            }
            else
            {
                z = (xz + h.matmul(Cols(recurrent, 0))).sigmoid();
                r = (xr + h.matmul(Cols(recurrent, 1))).sigmoid();
                hh = (xh + (r * h).matmul(Cols(recurrent, 2))).tanh();
            }
            h = z * h + (1 - z) * hh;
            outputs.Add(h);
        }
        return stack(outputs, 1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GRU_WithKerasLayoutWeights_ComputesKerasEquations_FusedAndStepLoop(bool resetAfter)
    {
        var resetKey = resetAfter ? "true" : "false";
        var gru = LayerTestKit.Parse<GRU>("""
            {"type": "GRU", "units": 2, "return_sequences": true, "reset_after": RESET,
             "bias_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.5, "maxval": 0.5}}}
            """.Replace("RESET", resetKey));
        using var module = LayerTestKit.Build(gru, new Shape(2, 3));
        // The same draws, in the documented order, give the Keras-layout weights the module was built from.
        var rng = new Generator(7);
        var kernel = gru.KernelInitializer.Create([3, 6], rng);
        var recurrent = gru.RecurrentInitializer.Create([2, 6], rng);
        var bias = gru.BiasInitializer.Create(resetAfter ? [2, 6] : [6], rng);
        Assert.True(bias.abs().min().item<float>() > 0, "biases must be non-zero for the test to see them");

        var x = tensor(Steps, [1, 2, 3]);
        var expected = KerasGru(x, kernel, recurrent, bias, resetAfter, 2);
        LayerTestKit.Close(expected, LayerTestKit.Run(module, x));
        // An all-true mask takes the step loop: the same numbers.
        LayerTestKit.Close(expected, LayerTestKit.Run(module, x, mask: ones(1, 2, ScalarType.Bool)));
    }

    // Hidden sizes whose fused float32 kernel was measured wrong on an AVX-512 processor (1–16, 33, 48, 100) and right
    // (17, 64): whatever this processor does, a built LSTM gives what its step loop (an all-true mask) computes.
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(100)]
    public void LSTM_WithoutMask_EqualsItsStepLoop_ForEveryHiddenSize(int units)
    {
        var layer = LayerTestKit.Parse($$"""{"type": "LSTM", "units": {{units}}, "return_sequences": true}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 2));
        var x = tensor(Steps, [1, 3, 2]);
        LayerTestKit.Close(LayerTestKit.Run(module, x, mask: ones(1, 3, ScalarType.Bool)), LayerTestKit.Run(module, x));
    }

    [Fact]
    public void GRU_ResetAfter_HasTwoTrainableBiases_ResetBefore_One()
    {
        Assert.Equal((3L * 4 * (3 + 4) + 2 * 3 * 4, 0L), LayerTestKit.Parse("""{"type": "GRU", "units": 4}""").CountParameters([new Shape(5, 3)]));
        Assert.Equal((3L * 4 * (3 + 4) + 3 * 4, 0L), LayerTestKit.Parse("""{"type": "GRU", "units": 4, "reset_after": false}""").CountParameters([new Shape(5, 3)]));
    }

    public static TheoryData<string> MaskedConfigs => new()
    {
        """{"type": "LSTM", "units": 3, "return_state": true}""",
        """{"type": "LSTM", "units": 3, "return_state": true, "go_backwards": true}""",
        """{"type": "GRU", "units": 3, "return_state": true}""",
        """{"type": "GRU", "units": 3, "return_state": true, "reset_after": false}""",
        """{"type": "SimpleRNN", "units": 3, "return_state": true}""",
        """{"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3}}""",
    };

    [Theory]
    [MemberData(nameof(MaskedConfigs))]
    public void Recurrent_OnAPrePaddedSequenceWithMask_EndsInTheStateOfTheUnpaddedSequence(string json)
    {
        var layer = LayerTestKit.Parse(json);
        using var module = LayerTestKit.Build(layer, new Shape(-1, 2));
        var real = tensor(Steps, [1, 3, 2]);
        var padded = cat([full(1, 2, 2, 3f), real], 1);   // non-zero padding: zeros would leave a zero state unchanged
        var mask = tensor(new[] { false, false, true, true, true }, [1, 5]);

        var unpadded = LayerTestKit.Run(module, [real]);
        var masked = LayerTestKit.Run(module, [padded], mask: mask);
        Assert.Equal(unpadded.Length, masked.Length);
        for (var i = 0; i < unpadded.Length; i++) LayerTestKit.Close(unpadded[i], masked[i]);
        // Without the mask the padding changes the result.
        var unmasked = LayerTestKit.Run(module, [padded]);
        Assert.True((unmasked[0] - unpadded[0]).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void LSTM_MaskedStepsOfReturnedSequences_RepeatThePreviousOutput_AsKerasDoes()
    {
        var layer = LayerTestKit.Parse("""{"type": "LSTM", "units": 3, "return_sequences": true}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 2));
        var x = tensor(Steps, [1, 3, 2]);
        var y = LayerTestKit.Run(module, x, mask: tensor(new[] { true, true, false }, [1, 3]));
        LayerTestKit.Close(y.select(1, 1), y.select(1, 2));
    }

    [Fact]
    public void Bidirectional_Concat_DoublesTheFeatures_AndListsStatesForwardThenBackward()
    {
        var sequences = LayerTestKit.Parse("""{"type": "Bidirectional", "layer": {"type": "LSTM", "units": 8, "return_sequences": true}}""");
        Assert.Equal([new Shape(10, 16)], sequences.OutputShapes([new Shape(10, 4)]));
        Assert.Equal((2L * 4 * 8 * (4 + 8 + 1), 0L), sequences.CountParameters([new Shape(10, 4)]));
        var states = LayerTestKit.Parse("""{"type": "Bidirectional", "layer": {"type": "GRU", "units": 8, "return_state": true}}""");
        Assert.Equal([new Shape(16), new Shape(8), new Shape(8)], states.OutputShapes([new Shape(10, 4)]));
    }

    [Fact]
    public void Bidirectional_BackwardOutputs_AreInForwardTime()
    {
        var layer = LayerTestKit.Parse("""{"type": "Bidirectional", "merge_mode": null, "layer": {"type": "GRU", "units": 3, "return_sequences": true}}""");
        using var module = LayerTestKit.Build(layer, new Shape(3, 2));
        var x = tensor(Steps, [1, 3, 2]);
        var changed = x.clone();
        changed[0, 0, 0] = 5f;
        var (a, b) = (LayerTestKit.Run(module, [x]), LayerTestKit.Run(module, [changed]));
        // The backward output at step t has read steps t..end: changing step 0 changes only its step 0.
        LayerTestKit.Close(a[1].narrow(1, 1, 2), b[1].narrow(1, 1, 2));
        Assert.True((a[1].select(1, 0) - b[1].select(1, 0)).abs().max().item<float>() > 1e-4);
        // The forward output changes everywhere.
        Assert.True((a[0].select(1, 2) - b[0].select(1, 2)).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void Bidirectional_AroundADense_IsAConfigErrorNamingTheAcceptedLayers()
    {
        var errors = LayerTestKit.ParseErrors("""{"type": "Bidirectional", "layer": {"type": "Dense", "units": 3}}""");
        Assert.Contains(errors, e => e.ToString().Contains("layer.layer") && e.ToString().Contains("SimpleRNN, LSTM or GRU"));
    }

    [Fact]
    public void TimeDistributed_Dense_EqualsTheDenseOnEachStep()
    {
        var wrapped = LayerTestKit.Parse("""{"type": "TimeDistributed", "layer": {"type": "Dense", "units": 4}}""");
        var dense = LayerTestKit.Parse("""{"type": "Dense", "units": 4}""");
        using var a = LayerTestKit.Build(wrapped, new Shape(3, 2));
        using var b = LayerTestKit.Build(dense, new Shape(2));   // the same seed draws the same kernel
        var x = tensor(Steps, [1, 3, 2]);
        LayerTestKit.Close(LayerTestKit.Run(b, x), LayerTestKit.Run(a, x));
    }

    [Fact]
    public void TimeDistributed_ShapeError_SaysWhichStepShapeTheInnerLayerGot()
    {
        var layer = LayerTestKit.Parse("""{"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 2, "kernel_size": 3}}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(5, 8)]));
        Assert.Contains("each step (8,)", error.Message);
        Assert.Contains("add Reshape", error.Message);
    }
}
