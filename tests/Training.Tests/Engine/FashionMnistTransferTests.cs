using System.Text.Json;
using TrainingService.Training.Datasets;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>examples/fashion-mnist-transfer-*.json on real Fashion-MNIST: a CNN trained, then a second run from its
/// weights with the convolutions frozen and a new head: the frozen weights come out bit-for-bit unchanged.</summary>
public class FashionMnistTransferTests(ITestOutputHelper output)
{
    private static JsonElement Spec(string file) => SpecFiles.Json(File.ReadAllText(Path.Combine(SpecFiles.RepoRoot, "examples", file)));

    private static Dictionary<string, Tensor> Read(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes);
        return TensorArchive.Read(ms);
    }

    [Fact]
    public async Task FrozenBackbone_NewHead_OnRealFashionMnist()
    {
        Assert.True(File.Exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
            "apt-get install -y dataset-fashion-mnist (.ci/run does)");
        var options = new DatasetOptions { Root = Path.Combine(Path.GetTempPath(), "ts-datasets-none"), AllowDownload = false };
        var preparer = new DatasetPreparer(new DatasetCache(new DatasetLoader(options)), new CsvUploadStore(options));
        var baseSpec = Spec("fashion-mnist-transfer-base.json");
        var headSpec = Spec("fashion-mnist-transfer-head.json");
        using var data = await preparer.PrepareAsync(baseSpec.GetProperty("dataset"), CancellationToken.None);

        var basePlan = TrainingPlan.Parse(baseSpec.GetProperty("model"), baseSpec.GetProperty("compile"), baseSpec.GetProperty("fit"));
        using var first = ModelSession.Create(basePlan);
        first.Fit(data.Train, null, null, CancellationToken.None);
        var baseScore = first.Evaluate(data.Test);
        var baseWeights = first.SaveWeights();

        var headPlan = TrainingPlan.Parse(headSpec.GetProperty("model"), headSpec.GetProperty("compile"), headSpec.GetProperty("fit"));
        Assert.Equal(5 * 5 * 32 * 10 + 10, headPlan.Summary.TrainableParameters);
        Assert.Equal(3 * 3 * 16 + 16 + 3 * 3 * 16 * 32 + 32, headPlan.Summary.NonTrainableParameters);
        var (initial, note) = InitialWeights.Select(headPlan, baseWeights, checkpoint: false, "initial_weights");
        Assert.Contains("new_head starts fresh", note);
        using var second = ModelSession.StartFrom(headPlan, initial);
        var untrained = second.Evaluate(data.Test)["accuracy"];
        second.Fit(data.Train, null, null, CancellationToken.None);
        var headScore = second.Evaluate(data.Test);

        var before = Read(baseWeights);
        var after = Read(second.SaveWeights());
        foreach (var name in before.Keys.Where(k => k.StartsWith("conv_", StringComparison.Ordinal)))
            Assert.True(before[name].eq(after[name]).all().item<bool>(), $"{name} changed although frozen");
        output.WriteLine($"base CNN: test accuracy {baseScore["accuracy"]:F4}; new head before training {untrained:F4}, after {headScore["accuracy"]:F4}");
        // Measured on a 2-core AMD EPYC (seed 1337): base 0.8161, new head 0.2756 before training and 0.8243 after.
        Assert.True(baseScore["accuracy"] >= 0.80, $"base {baseScore["accuracy"]:F4}");
        Assert.True(headScore["accuracy"] >= 0.80, $"new head on the frozen backbone {headScore["accuracy"]:F4}");
        Assert.True(headScore["accuracy"] > untrained + 0.3, $"the head learned nothing: {untrained:F4} → {headScore["accuracy"]:F4}");
    }
}
