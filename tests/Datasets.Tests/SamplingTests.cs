using TrainingService.Training.Datasets.Preprocessing;

namespace TrainingService.Datasets.Tests;

public class SamplingTests
{
    [Fact]
    public void Split_Stratified_KeepsClassShares()
    {
        var labels = Enumerable.Range(0, 100).Select(i => i < 80 ? 0 : 1).ToArray();
        var (train, test) = Sampling.Split(100, 0.25, labels, seed: 5);
        Assert.Equal(100, train.Length + test.Length);
        Assert.Empty(train.Intersect(test));
        Assert.Equal(20, test.Count(i => labels[i] == 0));
        Assert.Equal(5, test.Count(i => labels[i] == 1));
    }

    [Fact]
    public void Split_IsSeeded()
    {
        Assert.Equal(Sampling.Split(50, 0.2, null, 1).Test, Sampling.Split(50, 0.2, null, 1).Test);
        Assert.NotEqual(Sampling.Split(50, 0.2, null, 1).Test, Sampling.Split(50, 0.2, null, 2).Test);
    }

    [Fact]
    public void Split_TinySet_StillHasATestRow()
    {
        var (train, test) = Sampling.Split(3, 0.2, [1, 1, 0], seed: 0);
        Assert.Single(test);
        Assert.Equal(2, train.Length);
    }

    [Fact]
    public void Subset_TakesASeededSampleInStoredOrder()
    {
        var all = Enumerable.Range(0, 1000).ToArray();
        var s = Sampling.Subset(all, 10, 3);
        Assert.Equal(10, s.Length);
        Assert.Equal(s.Order(), s);
        Assert.Equal(s, Sampling.Subset(all, 10, 3));
        Assert.Same(all, Sampling.Subset(all, null, 3));
    }
}
