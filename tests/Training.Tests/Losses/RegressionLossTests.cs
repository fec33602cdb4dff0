using TrainingService.Training.Losses;
using static TrainingService.Training.Tests.Losses.LossTestKit;

namespace TrainingService.Training.Tests.Losses;

public class RegressionLossTests
{
    private static readonly float[,] Y = { { 1, 2 }, { -1, 0.5f } };
    private static readonly float[,] P = { { 1.5f, 0 }, { -1, 3 } };

    [Fact]
    public void MeanSquaredError_AveragesSquaresOverLastAxis() =>
        Close([(0.25 + 4) / 2, (0 + 6.25) / 2], new MeanSquaredError().PerExample(T(Y), T(P), null));

    [Fact]
    public void MeanAbsoluteError_AveragesAbsoluteDifferences() =>
        Close([(0.5 + 2) / 2, (0 + 2.5) / 2], new MeanAbsoluteError().PerExample(T(Y), T(P), null));

    [Fact]
    public void MeanAbsolutePercentageError_DividesByTargetMagnitude() =>
        Close([100 * (0.5 / 1 + 2 / 2.0) / 2, 100 * (0 + 2.5 / 0.5) / 2], new MeanAbsolutePercentageError().PerExample(T(Y), T(P), null), 1e-5);

    [Fact]
    public void MeanSquaredLogarithmicError_UsesLogOnePlusClippedValues()
    {
        double L(double x) => Math.Log(Math.Max(x, 1e-7) + 1);
        double Sq(double a, double b) => Math.Pow(L(b) - L(a), 2);
        Close([(Sq(1, 1.5) + Sq(2, 0)) / 2, (Sq(-1, -1) + Sq(0.5, 3)) / 2], new MeanSquaredLogarithmicError().PerExample(T(Y), T(P), null));
    }

    [Fact]
    public void Huber_IsQuadraticInsideDeltaLinearOutside()
    {
        // errors: 0.5, −2 | 0, 2.5 with delta 1
        Close([(0.125 + (2 - 0.5)) / 2, (0 + (2.5 - 0.5)) / 2], new Huber().PerExample(T(Y), T(P), null));
        Close([(0.125 + 2) / 2, (0 + (2 * 2.5 - 2)) / 2], new Huber { Delta = 2 }.PerExample(T(Y), T(P), null));
    }

    [Fact]
    public void LogCosh_IsLogOfCoshOfError()
    {
        double Lc(double x) => Math.Log(Math.Cosh(x));
        Close([(Lc(0.5) + Lc(-2)) / 2, (Lc(0) + Lc(2.5)) / 2], new LogCosh().PerExample(T(Y), T(P), null));
    }

    [Fact]
    public void KLDivergence_SumsTrueTimesLogRatioWithClipping()
    {
        var y = T(new float[,] { { 0.5f, 0.5f, 0 } });
        var p = T(new float[,] { { 0.25f, 0.5f, 0.25f } });
        Close([0.5 * Math.Log(2) + 0 + 1e-7 * Math.Log(1e-7 / 0.25)], new KLDivergence().PerExample(y, p, null));
    }

    [Fact]
    public void Poisson_IsPredictionMinusTrueLogPrediction() =>
        Close([((2 - 1 * Math.Log(2 + 1e-7)) + (0.5 - 3 * Math.Log(0.5 + 1e-7))) / 2],
            new Poisson().PerExample(T(new float[,] { { 1, 3 } }), T(new float[,] { { 2, 0.5f } }), null));

    [Fact]
    public void Hinge_MapsZeroOneTargetsToMinusOneOne()
    {
        var p = T(new float[,] { { 0.3f }, { -2 }, { 0.8f } });
        // targets 1, 0, 0 → 1, −1, −1
        Close([0.7, 0, 1.8], new Hinge().PerExample(T(1, 0, 0), p, null));
        Close([0.49, 0, 3.24], new SquaredHinge().PerExample(T(1, 0, 0), p, null));
        // targets that are not all 0/1 are used as given
        Close([0.7, 0, 1.8], new Hinge().PerExample(T(1, -1, -1), p, null));
    }

    [Fact]
    public void CategoricalHinge_ComparesTrueScoreWithBestWrongScore()
    {
        var y = T(new float[,] { { 0, 1, 0 }, { 1, 0, 0 } });
        var p = T(new float[,] { { 0.2f, 0.5f, 0.3f }, { 0.1f, 0.8f, 0.1f } });
        Close([Math.Max(0.3 - 0.5 + 1, 0), Math.Max(0.8 - 0.1 + 1, 0)], new CategoricalHinge().PerExample(y, p, null));
    }

    [Fact]
    public void CosineSimilarity_IsNegativeCosine() =>
        Close([-(3.0 * 4) / (5 * 4)], new CosineSimilarity().PerExample(T(new float[,] { { 3, 4 } }), T(new float[,] { { 4, -3 + 3 } }), null));

    [Fact]
    public void SequenceOutputs_AreAveragedPerExample()
    {
        var y = TorchSharp.torch.zeros(2, 3, 1);
        var p = TorchSharp.torch.ones(2, 3, 1) * 2;
        Close([4, 4], new MeanSquaredError().PerExample(y, p, null));
    }
}
