using TrainingService.Training.Datasets;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;

namespace TrainingService.Training.Tests.Engine;

/// <summary>The bundled example run specs, prepared by the dataset catalog and trained by the engine.</summary>
public class BundledDatasetTrainingTests(ITestOutputHelper output)
{
    private static async Task<(IReadOnlyDictionary<string, double> Test, FitResult Fit)> Train(string example)
    {
        var spec = SpecFiles.Json(File.ReadAllText(Path.Combine(SpecFiles.RepoRoot, "examples", example)));
        var options = new DatasetOptions { Root = Path.Combine(Path.GetTempPath(), "ts-datasets-none"), AllowDownload = false };
        var preparer = new DatasetPreparer(new DatasetCache(new DatasetLoader(options)), new CsvUploadStore(options));
        using var data = await preparer.PrepareAsync(spec.GetProperty("dataset"), CancellationToken.None);
        var plan = TrainingPlan.Parse(spec.GetProperty("model"), spec.GetProperty("compile"), spec.GetProperty("fit"));
        Assert.Empty(plan.CheckData(data.Signature));
        using var session = ModelSession.Create(plan);
        var fit = session.Fit(data.Train, null, null, CancellationToken.None);
        return (session.Evaluate(data.Test), fit);
    }

    [Fact]
    public async Task DigitsMlp_ReachesAtLeast95PercentTestAccuracy()
    {
        var (test, fit) = await Train("digits-mlp.json");
        output.WriteLine($"digits: test accuracy {test["accuracy"]:F4} after {fit.History.Count} epochs");
        Assert.True(test["accuracy"] >= 0.95, $"test accuracy {test["accuracy"]:F4}");
    }

    [Fact]
    public async Task IrisMlp_ReachesAtLeast90PercentTestAccuracy()
    {
        var (test, fit) = await Train("iris-mlp.json");
        output.WriteLine($"iris: test accuracy {test["accuracy"]:F4} after {fit.History.Count} epochs");
        Assert.True(test["accuracy"] >= 0.9, $"test accuracy {test["accuracy"]:F4}");
    }
}
