using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

public class ShuffledBlocksTests
{
    [Fact]
    public void Batches_EqualAGatherPerBatch_AcrossBlocksAndARaggedEnd()
    {
        // 32 KB per example: a 16 MB block holds 3 batches of 150 (450 examples), so 1,000 examples span three blocks
        // and end with a batch of 100.
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var x = randn([1000, 8192], generator: g);
        var y = arange(1000, ScalarType.Int64);
        using var data = new ArrayDataset([x], [y]);
        var order = randperm(1000, ScalarType.Int64, generator: g);
        using var blocks = new ShuffledBlocks(data, order, batchSize: 150);
        var batches = 0;
        for (long start = 0; start < 1000; start += 150)
        {
            var length = Math.Min(150, 1000 - start);
            blocks.EnsureHolds(start);
            var index = order.narrow(0, start, length);
            Assert.True(blocks.Inputs(start, length)[0].equal(x.index_select(0, index)).all().item<bool>(), $"inputs of the batch at {start}");
            Assert.Equal(y.index_select(0, index).data<long>().ToArray(), blocks.Targets(start, length)[0].data<long>().ToArray());
            batches++;
        }
        Assert.Equal(7, batches);
    }
}
