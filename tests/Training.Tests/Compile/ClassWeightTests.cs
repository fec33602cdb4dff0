using TrainingService.Training.Engine;
using TrainingService.Training.Losses;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Compile;

public class ClassWeightTests
{
    [Fact]
    public void ToSampleWeights_LooksUpLabelsAndDefaultsToOne()
    {
        var weights = new Dictionary<int, double> { [0] = 0.5, [1] = 5.0 };
        Assert.Equal([5f, 0.5f, 1f], ClassWeights.ToSampleWeights(tensor(new long[] { 1, 0, 2 }), weights).data<float>().ToArray());
        Assert.Equal([5f, 0.5f], ClassWeights.ToSampleWeights(tensor(new float[,] { { 1 }, { 0 } }), weights).data<float>().ToArray());
        Assert.Equal([0.5f, 5f], ClassWeights.ToSampleWeights(tensor(new float[,] { { 1, 0, 0 }, { 0, 1, 0 } }), weights).data<float>().ToArray());
    }

    [Fact]
    public void Reduce_DividesWeightedSumByBatchSize()
    {
        var perExample = tensor(new float[] { 1, 2, 3, 4 });
        Assert.Equal(2.5f, Loss.Reduce(perExample, null).item<float>());
        Assert.Equal((1 * 2 + 2 * 0 + 3 * 1 + 4 * 1) / 4f, Loss.Reduce(perExample, tensor(new float[] { 2, 0, 1, 1 })).item<float>());
    }
}
