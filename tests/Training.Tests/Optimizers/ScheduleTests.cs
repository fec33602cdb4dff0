using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Tests.Optimizers;

public class ScheduleTests
{
    [Fact]
    public void ExponentialDecay_DecaysContinuouslyOrInSteps()
    {
        var smooth = new ExponentialDecay { InitialLearningRate = 0.1, DecaySteps = 10, DecayRate = 0.5 };
        Assert.Equal(0.1 * Math.Pow(0.5, 0.5), smooth.At(5), 12);
        var stair = smooth with { Staircase = true };
        Assert.Equal(0.1, stair.At(9), 12);
        Assert.Equal(0.05, stair.At(10), 12);
        Assert.Equal(0.025, stair.At(25), 12);
    }

    [Fact]
    public void PiecewiseConstantDecay_BoundariesBelongToTheEarlierValue()
    {
        var s = new PiecewiseConstantDecay { Boundaries = [100, 200], Values = new NumberList([1.0, 0.5, 0.1]) };
        Assert.Equal(1.0, s.At(0));
        Assert.Equal(1.0, s.At(100));
        Assert.Equal(0.5, s.At(101));
        Assert.Equal(0.5, s.At(200));
        Assert.Equal(0.1, s.At(201));
    }

    [Fact]
    public void CosineDecay_FollowsHalfCosineToAlpha()
    {
        var s = new CosineDecay { InitialLearningRate = 1.0, DecaySteps = 100, Alpha = 0.1 };
        Assert.Equal(1.0, s.At(0), 12);
        Assert.Equal(0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)) + 0.1, s.At(25), 12);
        Assert.Equal(0.1, s.At(100), 12);
        Assert.Equal(0.1, s.At(1000), 12);
    }

    [Fact]
    public void CosineDecay_WithWarmup_RisesLinearlyThenDecaysFromTarget()
    {
        var s = new CosineDecay { InitialLearningRate = 0.0, DecaySteps = 10, WarmupTarget = 1.0, WarmupSteps = 4 };
        Assert.Equal(0.5, s.At(2), 12);
        Assert.Equal(1.0, s.At(4), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.5)), s.At(9), 12);
        Assert.Equal(0.0, s.At(14), 12);
    }

    [Fact]
    public void InverseTimeDecay_DividesByOnePlusRateTimesProgress()
    {
        var s = new InverseTimeDecay { InitialLearningRate = 0.1, DecaySteps = 1, DecayRate = 0.5 };
        Assert.Equal(0.1 / 3, s.At(4), 12);
    }

    [Fact]
    public void PolynomialDecay_ReachesEndRate()
    {
        var s = new PolynomialDecay { InitialLearningRate = 1.0, DecaySteps = 10, EndLearningRate = 0.0, Power = 2 };
        Assert.Equal(0.25, s.At(5), 12);
        Assert.Equal(0.0, s.At(50), 12);
    }
}
