using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The bundled example run specs, prepared by the dataset catalog and trained by the engine.</summary>
public class BundledDatasetTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DigitsMlp_ReachesAtLeast95PercentTestAccuracy()
    {
        var (test, fit) = await ExampleRuns.TrainAsync("digits-mlp.json");
        output.WriteLine($"digits: test accuracy {test["accuracy"]:F4} after {fit.History.Count} epochs");
        Assert.True(test["accuracy"] >= 0.95, $"test accuracy {test["accuracy"]:F4}");
    }

    [Fact]
    public async Task IrisMlp_ReachesAtLeast90PercentTestAccuracy()
    {
        var (test, fit) = await ExampleRuns.TrainAsync("iris-mlp.json");
        output.WriteLine($"iris: test accuracy {test["accuracy"]:F4} after {fit.History.Count} epochs");
        Assert.True(test["accuracy"] >= 0.9, $"test accuracy {test["accuracy"]:F4}");
    }
}
