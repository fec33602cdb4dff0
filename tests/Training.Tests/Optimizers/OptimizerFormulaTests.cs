using TrainingService.Training.Optimizers;
using static TrainingService.Training.Tests.Optimizers.OptimizerHarness;

namespace TrainingService.Training.Tests.Optimizers;

/// <summary>Each optimizer's first three steps against Keras 3's update rule written out element by element.</summary>
public class OptimizerFormulaTests
{
    [Fact]
    public void Sgd_WithoutMomentum_SubtractsLrTimesGradient()
    {
        var expected = Expected((_, w, g, _) => w - 0.01 * g);
        AssertClose(expected, Run(new Sgd()));
    }

    [Fact]
    public void Sgd_Momentum_UsesKerasVelocityForm()
    {
        var m = new double[3];
        var expected = Expected((i, w, g, _) =>
        {
            m[i] = 0.9 * m[i] - 0.05 * g;
            return w + m[i];
        });
        AssertClose(expected, Run(new Sgd { LearningRate = 0.05, Momentum = 0.9 }));
    }

    [Fact]
    public void Sgd_Nesterov_AddsMomentumTimesVelocityMinusLrGradient()
    {
        var m = new double[3];
        var expected = Expected((i, w, g, _) =>
        {
            m[i] = 0.9 * m[i] - 0.05 * g;
            return w + 0.9 * m[i] - 0.05 * g;
        });
        AssertClose(expected, Run(new Sgd { LearningRate = 0.05, Momentum = 0.9, Nesterov = true }));
    }

    [Fact]
    public void Adam_Defaults_UseEpsilonHatOnUncorrectedVelocity()
    {
        double[] m = new double[3], v = new double[3];
        var expected = Expected((i, w, g, t) =>
        {
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            var alpha = 0.001 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            return w - alpha * m[i] / (Math.Sqrt(v[i]) + 1e-7);
        });
        AssertClose(expected, Run(new Adam()));
    }

    [Fact]
    public void Adam_LargeEpsilon_ShowsKerasPlacementNotTorchs()
    {
        // With ε = 0.1 the Keras form (ε added to √v before bias correction) and torch's differ visibly.
        double[] m = new double[3], v = new double[3];
        var expected = Expected((i, w, g, t) =>
        {
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            var alpha = 0.01 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            return w - alpha * m[i] / (Math.Sqrt(v[i]) + 0.1);
        });
        AssertClose(expected, Run(new Adam { LearningRate = 0.01, Epsilon = 0.1 }));
    }

    [Fact]
    public void Adam_Amsgrad_UsesRunningMaximumOfVelocity()
    {
        double[] m = new double[3], v = new double[3], vHat = new double[3];
        var expected = Expected((i, w, g, t) =>
        {
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.99 * v[i] + 0.01 * g * g;
            vHat[i] = Math.Max(vHat[i], v[i]);
            var alpha = 0.01 * Math.Sqrt(1 - Math.Pow(0.99, t)) / (1 - Math.Pow(0.9, t));
            return w - alpha * m[i] / (Math.Sqrt(vHat[i]) + 1e-7);
        });
        AssertClose(expected, Run(new Adam { LearningRate = 0.01, Beta2 = 0.99, Amsgrad = true }));
    }

    [Fact]
    public void AdamW_DefaultDecay_ShrinksWeightsByLrTimesDecayBeforeAdamStep()
    {
        double[] m = new double[3], v = new double[3];
        var expected = Expected((i, w, g, t) =>
        {
            w *= 1 - 0.004 * 0.01;
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            var alpha = 0.01 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            return w - alpha * m[i] / (Math.Sqrt(v[i]) + 1e-7);
        });
        AssertClose(expected, Run(new AdamW { LearningRate = 0.01 }));
        Assert.Equal(0.004, new AdamW().WeightDecay);
    }

    [Fact]
    public void RMSprop_Defaults_PutEpsilonInsideTheSquareRoot()
    {
        var v = new double[3];
        var expected = Expected((i, w, g, _) =>
        {
            v[i] = 0.9 * v[i] + 0.1 * g * g;
            return w - 0.001 * g / Math.Sqrt(v[i] + 1e-7);
        });
        AssertClose(expected, Run(new RMSprop()));
    }

    [Fact]
    public void RMSprop_CenteredWithMomentum_MatchesKeras()
    {
        double[] v = new double[3], a = new double[3], mom = new double[3];
        var expected = Expected((i, w, g, _) =>
        {
            v[i] = 0.8 * v[i] + 0.2 * g * g;
            a[i] = 0.8 * a[i] + 0.2 * g;
            var increment = 0.01 * g / Math.Sqrt(v[i] - a[i] * a[i] + 1e-3);
            mom[i] = 0.5 * mom[i] + increment;
            return w - mom[i];
        });
        AssertClose(expected, Run(new RMSprop { LearningRate = 0.01, Rho = 0.8, Epsilon = 1e-3, Centered = true, Momentum = 0.5 }));
    }

    [Fact]
    public void Adagrad_Defaults_StartAccumulatorAtPointOne()
    {
        var acc = new[] { 0.1, 0.1, 0.1 };
        var expected = Expected((i, w, g, _) =>
        {
            acc[i] += g * g;
            return w - 0.001 * g / Math.Sqrt(acc[i] + 1e-7);
        });
        AssertClose(expected, Run(new Adagrad()));
    }

    [Fact]
    public void Adadelta_MatchesKerasRule()
    {
        double[] eg = new double[3], edx = new double[3];
        var expected = Expected((i, w, g, _) =>
        {
            eg[i] = 0.95 * eg[i] + 0.05 * g * g;
            var delta = -Math.Sqrt(edx[i] + 1e-7) / Math.Sqrt(eg[i] + 1e-7) * g;
            edx[i] = 0.95 * edx[i] + 0.05 * delta * delta;
            return w + 1.0 * delta;
        });
        AssertClose(expected, Run(new Adadelta { LearningRate = 1.0 }));
    }

    [Fact]
    public void Adamax_MatchesKerasRule()
    {
        double[] m = new double[3], u = new double[3];
        var expected = Expected((i, w, g, t) =>
        {
            m[i] += (g - m[i]) * 0.1;
            u[i] = Math.Max(0.999 * u[i], Math.Abs(g));
            return w - 0.01 * m[i] / ((1 - Math.Pow(0.9, t)) * (u[i] + 1e-7));
        });
        AssertClose(expected, Run(new Adamax { LearningRate = 0.01 }));
    }

    [Fact]
    public void Nadam_MatchesKeras3Rule()
    {
        double[] m = new double[3], v = new double[3];
        var uProduct = 1.0;
        long lastT = 0;
        double Mu(long t) => 0.9 * (1 - 0.5 * Math.Pow(0.96, t));
        var expected = Expected((i, w, g, t) =>
        {
            if (t != lastT) { uProduct *= Mu(t); lastT = t; }
            var uProduct1 = uProduct * Mu(t + 1);
            m[i] += (g - m[i]) * 0.1;
            v[i] += (g * g - v[i]) * 0.001;
            var mHat = Mu(t + 1) * m[i] / (1 - uProduct1) + (1 - Mu(t)) * g / (1 - uProduct);
            var vHat = v[i] / (1 - Math.Pow(0.999, t));
            return w - 0.01 * mHat / (Math.Sqrt(vHat) + 1e-7);
        });
        AssertClose(expected, Run(new Nadam { LearningRate = 0.01 }));
    }

    [Fact]
    public void WeightDecay_OnSgd_IsDecoupled()
    {
        var expected = Expected((_, w, g, _) => w * (1 - 0.1 * 0.01) - 0.01 * g);
        AssertClose(expected, Run(new Sgd { WeightDecay = 0.1 }));
    }
}
