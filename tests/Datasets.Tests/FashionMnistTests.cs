using TrainingService.Training.Datasets;
using static TorchSharp.torch;

namespace TrainingService.Datasets.Tests;

/// <summary>Real Fashion-MNIST from Debian's dataset-fashion-mnist package (installed by .ci/run).</summary>
public class FashionMnistTests
{
    private const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    [Fact]
    public async Task FashionMnist_FromDebian_HasKerasShapesAnd6000PerClass()
    {
        Assert.True(Directory.Exists(DebianFolder), $"{DebianFolder} is missing: apt-get install dataset-fashion-mnist");
        using var dir = new TempFolder();
        var options = new DatasetOptions { Root = dir.Path };
        Assert.True(DatasetCatalog.Describe(DatasetCatalog.Find("fashion_mnist")!, options).Available);

        using var raw = await new DatasetLoader(options).LoadAsync("fashion_mnist", default);

        Assert.Equal(new long[] { 60000, 28, 28 }, raw.TrainX!.shape);
        Assert.Equal(new long[] { 10000, 28, 28 }, raw.TestX!.shape);
        Assert.Equal(ScalarType.Byte, raw.TrainX.dtype);
        Assert.Equal(new long[] { 60000 }, raw.TrainY.shape);
        using var trainCounts = raw.TrainY.to_type(ScalarType.Int64).bincount(null);
        Assert.All(trainCounts.data<long>().ToArray(), c => Assert.Equal(6000, c));
        using var testCounts = raw.TestY!.to_type(ScalarType.Int64).bincount(null);
        Assert.All(testCounts.data<long>().ToArray(), c => Assert.Equal(1000, c));
        Assert.Equal(10, trainCounts.shape[0]);
        Assert.Equal("Ankle boot", raw.ClassNames[9]);
        Assert.Equal("T-shirt/top", raw.ClassNames[0]);
    }
}
