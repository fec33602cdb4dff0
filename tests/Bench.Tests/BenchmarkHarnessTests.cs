using TrainingService.Training.Datasets;

namespace TrainingService.Bench.Tests;

/// <summary>Keeps the benchmark harness (bench/Benchmarks) from rotting: it runs on a tiny configuration and writes
/// its report, and the canonical dataset files it writes for the service load through the dataset catalog. No timing
/// is asserted.</summary>
public sealed class BenchmarkHarnessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ts-bench-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task QuickRun_WritesReport_WithMachineAndEveryModelAndTargets()
    {
        var output = Path.Combine(_dir, "benchmarks.md");
        var lines = new List<string>();

        var markdown = await Harness.RunAsync(BenchOptions.Quick(output) with { Work = Path.Combine(_dir, "work") }, lines.Add);

        Assert.Contains("## Machine", markdown);
        Assert.Contains("GFLOP/s", markdown);
        Assert.Contains("Measured SGEMM on this machine", markdown);
        Assert.Contains("B % of measured SGEMM", markdown);
        foreach (var model in new[] { "MNIST MLP", "CIFAR-10 CNN", "IMDB Embedding" }) Assert.Contains(model, markdown);
        Assert.Contains("| mlp: engine fit ≤ 1.05× hand-written (each at its faster fixed count) |", markdown);
        Assert.Contains("| mlp: measured thread policy ≤ 1.05× the engine's best fixed count |", markdown);
        Assert.Contains(lines, l => l.Contains("B engine fit"));
    }

    [Fact]
    public async Task CanonicalFiles_LoadThroughTheCatalog_AsTheSameExamples()
    {
        using (var cnn = ReferenceData.Create("cnn", 20)) cnn.WriteCanonical(_dir);
        using var lstm = ReferenceData.Create("lstm", 12);
        lstm.WriteCanonical(_dir);
        using var cache = new DatasetCache(new DatasetLoader(new DatasetOptions { Root = _dir }));

        var cifar = await cache.GetAsync("cifar10", CancellationToken.None);
        using var again = ReferenceData.Create("cnn", 20);
        Assert.Equal([20L, 32, 32, 3], cifar.TrainX!.shape);
        Assert.True(cifar.TrainX.eq(again.X).all().item<bool>());
        Assert.True(cifar.TrainY.eq(again.Y).all().item<bool>());

        var imdb = await cache.GetAsync("imdb", CancellationToken.None);
        Assert.Equal(12, imdb.TrainY.shape[0]);
    }
}
