using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The MNIST-MLP reference definition on real Fashion-MNIST (Debian's dataset-fashion-mnist, found by the
/// dataset catalog) reaches Keras's test accuracy for that model (about 0.88 after 10 epochs).</summary>
public class FashionMnistAccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task MnistMlp_OnRealFashionMnist_ReachesKerasAccuracy_After10Epochs()
    {
        Assert.True(File.Exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
            "apt-get install -y dataset-fashion-mnist (.ci/run does)");

        var (test, fit) = await ExampleRuns.TrainAsync("fashion-mnist-mlp.json");

        foreach (var e in fit.History) output.WriteLine($"epoch {e.Epoch}: loss {e.Logs["loss"]:F4} accuracy {e.Logs["accuracy"]:F4} ({e.DurationSeconds:F1} s)");
        output.WriteLine($"test: loss {test["loss"]:F4} accuracy {test["accuracy"]:F4}");
        Assert.Equal(10, fit.History.Count);
        Assert.True(fit.History[0].Logs["accuracy"] > 0.80, "first epoch should already pass 0.80");
        Assert.True(test["accuracy"] >= 0.87, $"test accuracy {test["accuracy"]:F4} is below Keras's ~0.88");
    }
}
