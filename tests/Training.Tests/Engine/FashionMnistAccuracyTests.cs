using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The MNIST-MLP reference definition on real Fashion-MNIST (Debian's dataset-fashion-mnist) reaches
/// Keras's test accuracy for that model (about 0.88 after 10 epochs).</summary>
public class FashionMnistAccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public void MnistMlp_OnRealFashionMnist_ReachesKerasAccuracy_After10Epochs()
    {
        Assert.True(Idx.FashionMnistInstalled, "apt-get install -y dataset-fashion-mnist (.ci/run does)");
        var plan = SpecFiles.Example("fashion-mnist-mlp.json");
        Assert.Equal(10, plan.Epochs);
        var (xTrain, yTrain) = Idx.FashionMnist(train: true);
        var (xTest, yTest) = Idx.FashionMnist(train: false);
        using var train = new ArrayDataset([xTrain], [yTrain], new Rescale(1 / 255.0));
        using var test = new ArrayDataset([xTest], [yTest], new Rescale(1 / 255.0));
        using var session = ModelSession.Create(plan);

        var history = session.Fit(train, null, null, CancellationToken.None).History;
        var metrics = session.Evaluate(test);

        foreach (var e in history) output.WriteLine($"epoch {e.Epoch}: loss {e.Logs["loss"]:F4} accuracy {e.Logs["accuracy"]:F4} ({e.DurationSeconds:F1} s)");
        output.WriteLine($"test: loss {metrics["loss"]:F4} accuracy {metrics["accuracy"]:F4}");
        Assert.Equal(10, history.Count);
        Assert.True(history[0].Logs["accuracy"] > 0.80, "first epoch should already pass 0.80");
        Assert.True(metrics["accuracy"] >= 0.87, $"test accuracy {metrics["accuracy"]:F4} is below Keras's ~0.88");
    }
}
