using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Layers;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The memory layout convolutions compute in is a speed choice only: training a small CNN with channels-last
/// kernels gives the same outputs, losses and weights as the default, to float tolerance, with the fused optimizer (flat
/// buffers) and without. SGD, not Adam: Adam's first steps move every weight by about the learning rate whatever its
/// gradient's size, so a gradient that is zero up to rounding would make a difference of a whole step.
/// <see cref="ConvolutionLayout.ChannelsFirst"/> is left out: on the 2-core AMD EPYC (AVX-512) build machine LibTorch
/// 2.10's float32 convolution computes wrong input gradients from a dense channels-first input with few channels, as this
/// model's second convolution has (losses 0.2-0.4 % off; NaN by epoch 3 with a 3x3 kernel and momentum), while the
/// channels-last view is right: see the next test.</summary>
public class ConvolutionLayoutTests
{
    private const string Cnn = """
{"input_shape": [8, 8, 3], "layers": [{"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Conv2D", "filters": 6, "kernel_size": 2, "padding": "same", "activation": "relu"},
        {"type": "Flatten"}, {"type": "Dense", "units": 3, "activation": "softmax"}]}
""";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fit_GivesTheSameLossesAndWeights_WithChannelsLastKernels(bool fuseOptimizer)
    {
        using var g = new Generator(11);
        // Learnable labels: which channel is brightest on average.
        var x = rand([96, 8, 8, 3], generator: g);
        using var data = new ArrayDataset([x], [x.mean([1, 2]).argmax(1)]);
        var runs = new[] { ConvolutionLayout.ChannelsLast, ConvolutionLayout.ChannelsLastKernels }.Select(layout =>
        {
            using var session = ModelSession.Create(SpecFiles.Plan(Cnn,
                """{"optimizer": {"type": "SGD", "learning_rate": 0.01}, "loss": "sparse_categorical_crossentropy"}""",
                """{"epochs": 5, "batch_size": 16, "seed": 5}"""));
            session.FuseOptimizer = fuseOptimizer;
            session.ConvolutionLayout = layout;
            var before = session.Predict(data)[0];
            var losses = session.Fit(data, null, null, CancellationToken.None).History.Select(h => h.Logs["loss"]).ToArray();
            return (Layout: layout, Before: before, Losses: losses, Weights: TensorArchive.Read(new MemoryStream(session.SaveWeights())));
        }).ToList();
        var reference = runs[0];
        Assert.Equal(ConvolutionLayout.ChannelsLast, reference.Layout);
        Assert.True(reference.Losses[^1] < reference.Losses[0], "the model learned nothing: the comparison would prove little");
        foreach (var run in runs.Skip(1))
        {
            Assert.True(reference.Before.allclose(run.Before, rtol: 1e-5, atol: 1e-6), $"{run.Layout}: the untrained model's outputs differ");
            for (var e = 0; e < reference.Losses.Length; e++)
                Assert.True(Math.Abs(run.Losses[e] - reference.Losses[e]) <= 1e-4 * Math.Abs(reference.Losses[e]),
                    $"{run.Layout}: epoch {e + 1} loss {run.Losses[e]} vs {reference.Losses[e]}");
            Assert.Equal(reference.Weights.Keys.Order(), run.Weights.Keys.Order());
            foreach (var (name, weight) in reference.Weights)
                Assert.True(weight.allclose(run.Weights[name], rtol: 1e-4, atol: 1e-5),
                    $"{run.Layout}: {name} differs by up to {(weight - run.Weights[name]).abs().max().item<float>()}");
        }
        foreach (var t in runs.SelectMany(r => r.Weights.Values.Append(r.Before))) t.Dispose();
    }

    /// <summary>The input gradient of the default (channels-last) convolution against float64, for a 2x2 kernel: the
    /// case where LibTorch 2.10's dense channels-first float32 path went wrong on the build machine (an error of 12 where
    /// the gradient reaches 18, float64 and the channels-last view agreeing), so that the default is guarded.</summary>
    [Fact]
    public void Convolve_EvenKernel_InputGradientMatchesFloat64()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var x = rand([16, 8, 8, 4], generator: g) - 0.3;
        var w = randn([6, 4, 2, 2], generator: g) * 0.3;
        Tensor InputGradient(ScalarType type, bool denseChannelsFirst)
        {
            var input = x.to(type).requires_grad_();
            var y = ConvModule.Convolve(input, w.to(type), null, "valid", [2, 2], [1, 1], [1, 1], 1, denseChannelsFirst);
            nn.functional.relu(y).reshape(16, -1).sum(1).square().mean().backward();
            return input.grad!;
        }
        var expected = InputGradient(ScalarType.Float64, denseChannelsFirst: false);
        var actual = InputGradient(ScalarType.Float32, denseChannelsFirst: false).to(ScalarType.Float64);
        Assert.True(expected.allclose(actual, rtol: 1e-4, atol: 1e-4), $"largest difference {(expected - actual).abs().max().item<double>()}");
    }
}
