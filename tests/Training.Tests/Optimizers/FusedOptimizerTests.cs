using TorchSharp.Modules;
using TrainingService.Training.Optimizers;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Optimizers;

/// <summary>The fused update over flat buffers against one update per parameter: the same parameters after 100 steps
/// of a small two-layer network, for every optimizer and the per-parameter features (clipping, weight decay).</summary>
public class FusedOptimizerTests
{
    public static TheoryData<string> Configs =>
    [
        "\"sgd\"",
        """{"type": "SGD", "learning_rate": 0.05, "momentum": 0.9}""",
        """{"type": "SGD", "learning_rate": 0.05, "momentum": 0.9, "nesterov": true}""",
        "\"adam\"",
        """{"type": "Adam", "amsgrad": true}""",
        "\"adamw\"",
        "\"rmsprop\"",
        """{"type": "RMSprop", "momentum": 0.5, "centered": true}""",
        "\"adagrad\"",
        "\"adamax\"",
        "\"nadam\"",
        """{"type": "Adadelta", "learning_rate": 1.0}""",
        """{"type": "Adam", "clipnorm": 0.05}""",
        """{"type": "Adam", "global_clipnorm": 0.05}""",
        """{"type": "Adam", "clipvalue": 0.01, "weight_decay": 0.1}""",
        """{"type": "SGD", "learning_rate": 0.1, "momentum": 0.9, "clipnorm": 0.1, "weight_decay": 0.01}""",
    ];

    [Theory]
    [MemberData(nameof(Configs))]
    public void Fused_MatchesPerParameter_Over100Steps(string json)
    {
        var config = OptimizerRegistryTests.ParseOk(json);
        var (perParameter, _) = Train(config, fuse: false);
        var (fused, wasFused) = Train(config, fuse: true);
        Assert.True(wasFused, "the fused path was not taken");
        AssertSame(perParameter, fused);
    }

    [Fact]
    public void ParameterWithoutGradient_FallsBackToPerParameter_AndIsLeftAlone()
    {
        var config = OptimizerRegistryTests.ParseOk("\"adam\"");
        var (perParameter, _) = Train(config, fuse: false, withUnused: true);
        var (fused, wasFused) = Train(config, fuse: true, withUnused: true);
        Assert.False(wasFused);
        AssertSame(perParameter, fused);
        Assert.All(fused[^1], v => Assert.Equal(0.5f, v)); // Keras skips a variable without a gradient
    }

    [Fact]
    public void FrozenParameter_IsNotMoved_AndTheRestAreFused()
    {
        var config = OptimizerRegistryTests.ParseOk("\"adam\"");
        var (perParameter, _) = Train(config, fuse: false, freezeFirst: true);
        var (fused, wasFused) = Train(config, fuse: true, freezeFirst: true);
        Assert.True(wasFused);
        AssertSame(perParameter, fused);
        using var g = new Generator(7);
        Assert.Equal(randn([5, 4], generator: g).data<float>().ToArray(), fused[0]);
    }

    [Fact]
    public void State_MovesFromPerParameterToFused_AndContinuesIdentically()
    {
        var config = OptimizerRegistryTests.ParseOk("\"nadam\"");
        var (a, _) = Train(config, fuse: true, steps: 60);
        var (b, _) = Train(config, fuse: false, steps: 60, resumeAfter: 30, resumeFused: true);
        AssertSame(a, b);
    }

    private static void AssertSame(float[][] expected, float[][] actual)
    {
        for (var p = 0; p < expected.Length; p++)
            for (var i = 0; i < expected[p].Length; i++)
                Assert.True(Math.Abs(expected[p][i] - actual[p][i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[p][i])),
                    $"parameter {p}, element {i}: per-parameter {expected[p][i]:R}, fused {actual[p][i]:R}");
    }

    /// <summary>Trains a 5-4-3 network (tanh, squared error) on fixed random batches and returns its parameters.
    /// With <paramref name="resumeAfter"/>, the optimizer is replaced at that step by a fresh one (fused as
    /// <paramref name="resumeFused"/> says, the opposite of the first) that loads the first one's state.</summary>
    private static (float[][] Parameters, bool Fused) Train(OptimizerConfig config, bool fuse, bool withUnused = false,
        bool freezeFirst = false, int steps = 100, int? resumeAfter = null, bool resumeFused = false)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var w1 = new Parameter(randn([5, 4], generator: g), requires_grad: !freezeFirst);
        var b1 = new Parameter(zeros(4));
        var w2 = new Parameter(randn([4, 3], generator: g));
        var b2 = new Parameter(zeros(3));
        var unused = new Parameter(full(2, 0.5f));
        List<(string, Parameter)> named = [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)];
        if (withUnused) named.Add(("unused", unused));
        var optimizer = config.Create(named);
        optimizer.Fuse = fuse;
        for (var step = 0; step < steps; step++)
        {
            if (step == resumeAfter)
            {
                var state = optimizer.State().ToDictionary(s => s.Name, s => s.Value.clone());
                var iterations = optimizer.Iterations;
                optimizer.Dispose();
                optimizer = config.Create(named);
                optimizer.Fuse = resumeFused;
                optimizer.LoadState(state);
                optimizer.Iterations = iterations;
            }
            using var stepScope = NewDisposeScope();
            var x = randn([8, 5], generator: g);
            var y = randn([8, 3], generator: g);
            var loss = ((x.matmul(w1) + b1).tanh().matmul(w2) + b2 - y).square().mean();
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
        }
        var fused = optimizer.IsFused;
        optimizer.Dispose();
        Tensor[] all = withUnused ? [w1, b1, w2, b2, unused] : [w1, b1, w2, b2];
        return (all.Select(p => p.data<float>().ToArray()).ToArray(), fused);
    }
}
