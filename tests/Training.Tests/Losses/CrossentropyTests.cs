using TrainingService.Training.Losses;
using static TorchSharp.torch;
using static TrainingService.Training.Tests.Losses.LossTestKit;

namespace TrainingService.Training.Tests.Losses;

public class CrossentropyTests
{
    private static readonly float[,] Probabilities = { { 0.7f, 0.2f, 0.1f }, { 0.1f, 0.1f, 0.8f } };
    private static readonly float[,] OneHot = { { 1, 0, 0 }, { 0, 1, 0 } };

    [Fact]
    public void CategoricalCrossentropy_FromProbabilities_IsMinusLogOfTrueClass()
    {
        var loss = new CategoricalCrossentropy().PerExample(T(OneHot), T(Probabilities), null);
        Close([-Math.Log(0.7), -Math.Log(0.1)], loss);
    }

    [Fact]
    public void CategoricalCrossentropy_NormalisesAndClipsLikeKerasTorchBackend()
    {
        // Rows not summing to 1 are normalised; a zero probability is clipped to 1e-7.
        var loss = new CategoricalCrossentropy().PerExample(T(new float[,] { { 1, 0 }, { 1, 1 } }), T(new float[,] { { 0, 2 }, { 1, 3 } }), null);
        Close([-Math.Log(1e-7), -Math.Log(0.25) - Math.Log(0.75)], loss, 1e-4);
    }

    [Fact]
    public void CategoricalCrossentropy_FromLogits_UsesLogSoftmax()
    {
        var logits = T(new float[,] { { 2, 1, 0 }, { -1, 3, 0.5f } });
        double Lse(params double[] z) => Math.Log(z.Sum(Math.Exp));
        var loss = new CategoricalCrossentropy { FromLogits = true }.PerExample(T(OneHot), logits, null);
        Close([Lse(2, 1, 0) - 2, Lse(-1, 3, 0.5) - 3], loss);
    }

    [Fact]
    public void CategoricalCrossentropy_LogitsPath_EqualsProbabilityPathForModerateValues()
    {
        var logits = T(new float[,] { { 2, 1, 0 }, { -1, 3, 0.5f } });
        var probs = logits.softmax(-1);
        var viaLogits = new CategoricalCrossentropy().PerExample(T(OneHot), probs, logits);
        var viaProbs = new CategoricalCrossentropy().PerExample(T(OneHot), probs, null);
        Close(D(viaProbs), viaLogits, 1e-5);
    }

    [Fact]
    public void CategoricalCrossentropy_LogitsPath_StaysExactWhereClippingWouldSaturate()
    {
        var logits = T(new float[,] { { 40, 0 } });
        var loss = new CategoricalCrossentropy().PerExample(T(new float[,] { { 0, 1 } }), logits.softmax(-1), logits);
        Close([40 + Math.Log(1 + Math.Exp(-40))], loss);
    }

    [Fact]
    public void CategoricalCrossentropy_LabelSmoothing_MixesWithUniform()
    {
        var loss = new CategoricalCrossentropy { LabelSmoothing = 0.3 }.PerExample(T(OneHot), T(Probabilities), null);
        double Row(double[] y, double[] p) => -y.Zip(p, (a, b) => a * Math.Log(b)).Sum();
        Close([Row([0.8, 0.1, 0.1], [0.7, 0.2, 0.1]), Row([0.1, 0.8, 0.1], [0.1, 0.1, 0.8])], loss);
    }

    [Fact]
    public void CategoricalCrossentropy_GivenIntegerLabels_OneHotEncodesThem()
    {
        var loss = new CategoricalCrossentropy().PerExample(Labels(0, 1), T(Probabilities), null);
        Close([-Math.Log(0.7), -Math.Log(0.1)], loss);
    }

    [Fact]
    public void SparseCategoricalCrossentropy_EqualsCategoricalOnOneHot()
    {
        var loss = new SparseCategoricalCrossentropy().PerExample(Labels(0, 1), T(Probabilities), null);
        Close([-Math.Log(0.7), -Math.Log(0.1)], loss);
        var column = new SparseCategoricalCrossentropy().PerExample(Labels(0, 1).unsqueeze(1), T(Probabilities), null);
        Close([-Math.Log(0.7), -Math.Log(0.1)], column);
    }

    [Fact]
    public void SparseCategoricalCrossentropy_FromLogitsAndLogitsArgument()
    {
        var logits = T(new float[,] { { 2, 1, 0 }, { -1, 3, 0.5f } });
        double Lse(params double[] z) => Math.Log(z.Sum(Math.Exp));
        Close([Lse(2, 1, 0) - 1, Lse(-1, 3, 0.5) + 1], new SparseCategoricalCrossentropy { FromLogits = true }.PerExample(Labels(1, 0), logits, null));
        Close([Lse(2, 1, 0) - 1, Lse(-1, 3, 0.5) + 1], new SparseCategoricalCrossentropy().PerExample(Labels(1, 0), logits.softmax(-1), logits));
    }

    [Fact]
    public void BinaryCrossentropy_FromProbabilities_ClipsAndAveragesLastAxis()
    {
        var y = T(new float[,] { { 1, 0 }, { 0, 1 } });
        var p = T(new float[,] { { 0.9f, 0.2f }, { 1, 0 } });
        double B(double t, double q) => -(t * Math.Log(Clip(q)) + (1 - t) * Math.Log(1 - Clip(q)));
        var loss = new BinaryCrossentropy().PerExample(y, p, null);
        // float32 clipping puts 1 − 1e-7 at 1 − 2^-23 ≈ 0.99999988, so the saturated term is −log(1.19e-7).
        Close([(B(1, 0.9) + B(0, 0.2)) / 2, (-Math.Log(1 - 0.99999988079071045) - Math.Log(1e-7)) / 2], loss, 1e-4);
    }

    [Fact]
    public void BinaryCrossentropy_TargetsWithoutTrailingOne_AreExpanded()
    {
        var loss = new BinaryCrossentropy().PerExample(T(1, 0), T(new float[,] { { 0.8f }, { 0.3f } }), null);
        Close([-Math.Log(0.8), -Math.Log(0.7)], loss);
    }

    [Fact]
    public void BinaryCrossentropy_FromLogits_AndLogitsArgument_MatchSigmoidFormula()
    {
        var z = T(new float[,] { { 1.5f }, { -0.5f } });
        double Sig(double x) => 1 / (1 + Math.Exp(-x));
        double[] expected = [-Math.Log(Sig(1.5)), -Math.Log(1 - Sig(-0.5))];
        Close(expected, new BinaryCrossentropy { FromLogits = true }.PerExample(T(1, 0), z, null));
        Close(expected, new BinaryCrossentropy().PerExample(T(1, 0), z.sigmoid(), z));
        Close(D(new BinaryCrossentropy().PerExample(T(1, 0), z.sigmoid(), null)), new BinaryCrossentropy().PerExample(T(1, 0), z.sigmoid(), z), 1e-5);
    }

    [Fact]
    public void BinaryCrossentropy_LabelSmoothing_PullsTargetsToHalf()
    {
        var loss = new BinaryCrossentropy { LabelSmoothing = 0.2 }.PerExample(T(1), T(new float[,] { { 0.8f } }), null);
        Close([-(0.9 * Math.Log(0.8) + 0.1 * Math.Log(0.2))], loss);
    }

    [Fact]
    public void LogitsActivation_NamesTheActivationEachLossCanInvert()
    {
        Assert.Equal("softmax", new CategoricalCrossentropy().LogitsActivation);
        Assert.Equal("softmax", new SparseCategoricalCrossentropy().LogitsActivation);
        Assert.Equal("sigmoid", new BinaryCrossentropy().LogitsActivation);
        Assert.Null(new MeanSquaredError().LogitsActivation);
        Assert.Equal(TargetKind.ClassIndices, new SparseCategoricalCrossentropy().Targets);
    }
}
