using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;
using static TrainingService.Training.Tests.Optimizers.OptimizerHarness;
using Parameter = TorchSharp.Modules.Parameter;

namespace TrainingService.Training.Tests.Optimizers;

public class OptimizerBehaviourTests
{
    [Fact]
    public void Clipnorm_ScalesGradientToNorm()
    {
        // |g| = 5 → clipped to 1: g' = g/5.
        var expected = Expected((_, w, g, _) => w - 0.1 * g / 5, [[3, 4, 0]]);
        AssertClose(expected, Run(new Sgd { LearningRate = 0.1, Clipnorm = 1 }, [[3, 4, 0]]));
    }

    [Fact]
    public void Clipvalue_ClampsEachElement()
    {
        var expected = Expected((_, w, g, _) => w - 0.1 * Math.Clamp(g, -0.5, 0.5), [[3, -0.2, -4]]);
        AssertClose(expected, Run(new Sgd { LearningRate = 0.1, Clipvalue = 0.5 }, [[3, -0.2, -4]]));
    }

    [Fact]
    public void GlobalClipnorm_ScalesAllGradientsTogether()
    {
        var a = new Parameter(tensor(new float[] { 1, 1 }));
        var b = new Parameter(tensor(new float[] { 1 }));
        var optimizer = new Sgd { LearningRate = 1, GlobalClipnorm = 1 }.Create([("a", a), ("b", b)]);
        ((a * tensor(new float[] { 3, 0 })).sum() + (b * tensor(new float[] { 4 })).sum()).backward();
        optimizer.Step();
        Assert.Equal(1 - 0.6, a.data<float>()[0], 5);
        Assert.Equal(1 - 0.8, b.data<float>()[0], 5);
    }

    [Fact]
    public void Schedule_IsEvaluatedAtIterationsBeforeTheStep()
    {
        var schedule = new PiecewiseConstantDecay { Boundaries = [0, 1], Values = new NumberList([1.0, 0.5, 0.25]) };
        var config = new Sgd { Schedule = schedule };
        var (optimizer, p) = Create(config);
        Assert.Equal(1.0, optimizer.CurrentLearningRate);
        var lrs = new List<double>();
        foreach (var g in Grads) { lrs.Add(optimizer.CurrentLearningRate); Step(optimizer, p, g); }
        Assert.Equal([1.0, 0.5, 0.25], lrs);
        var expected = Expected((_, w, g, t) => w - (t == 1 ? 1.0 : t == 2 ? 0.5 : 0.25) * g);
        AssertClose(expected, [.. new[] { p.data<float>().Select(x => (double)x).ToArray() }.Prepend(expected[1]).Prepend(expected[0])]);
    }

    [Fact]
    public void LearningRate_SetBetweenSteps_IsUsedByTheNextStep()
    {
        var (optimizer, p) = Create(new Sgd { LearningRate = 0.1, Momentum = 0.9 });
        Step(optimizer, p, Grads[0]);
        optimizer.LearningRate = 0.01;
        Step(optimizer, p, Grads[1]);
        var m = new double[3];
        var expected = Expected((i, w, g, t) =>
        {
            m[i] = 0.9 * m[i] - (t == 1 ? 0.1 : 0.01) * g;
            return w + m[i];
        }, Grads[..2]);
        AssertClose([expected[1]], [p.data<float>().Select(x => (double)x).ToArray()]);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("nadam")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    [InlineData("adadelta")]
    [InlineData("adamax")]
    [InlineData("adamw")]
    public void State_LoadedIntoAFreshOptimizer_ContinuesIdentically(string name)
    {
        var config = OptimizerRegistryTests.ParseOk($"\"{name}\"") with { LearningRate = 0.01 };
        var (a, pa) = Create(config);
        Step(a, pa, Grads[0]);
        Step(a, pa, Grads[1]);

        var (b, pb) = Create(config, pa.data<float>().Select(x => (double)x).ToArray());
        b.LoadState(a.State().ToDictionary(s => s.Name, s => s.Value.clone()));
        b.Iterations = a.Iterations;
        Step(a, pa, Grads[2]);
        Step(b, pb, Grads[2]);
        Assert.Equal(pa.data<float>().ToArray(), pb.data<float>().ToArray());
    }

    [Fact]
    public void State_NamesSlotsByParameter()
    {
        var (optimizer, _) = Create(new Adam());
        Assert.Equal(["w/momentum", "w/velocity"], optimizer.State().Select(s => s.Name));
    }
}
