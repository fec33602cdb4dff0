using TrainingService.Training.Datasets;
using TrainingService.Training.Engine;

namespace TrainingService.Training.Tests.Support;

/// <summary>Trains an example run spec from examples/ as the service would: dataset through the catalog (no
/// downloads; Debian's Fashion-MNIST is found), plan checked against the data, fit, then scored on the test split.</summary>
public static class ExampleRuns
{
    public static async Task<(IReadOnlyDictionary<string, double> Test, FitResult Fit)> TrainAsync(string example)
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
}
