using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>
/// An epoch's examples in shuffled order, gathered a block of batches at a time: one <c>index_select</c> per tensor and
/// block, then each batch is a view of its block. A gather per batch costs an index slice, a gather and an allocation
/// per tensor and step; this costs one view per tensor and step, and holds a block (at most <see cref="MaxBlockBytes"/>,
/// at most <see cref="MaxBlockBatches"/> batches), not a shuffled copy of the dataset. Batches are the same as a
/// per-batch gather's, in the same order.
/// </summary>
internal sealed class ShuffledBlocks : IDisposable
{
    public const int MaxBlockBatches = 64;
    public const long MaxBlockBytes = 16L << 20;

    private readonly ArrayDataset _data;
    private readonly Tensor _order;
    private readonly long _blockLength;
    private Tensor[] _block = [];
    private long _blockStart = -1;

    public ShuffledBlocks(ArrayDataset data, Tensor order, int batchSize)
    {
        _data = data;
        _order = order;
        var bytesPerExample = data.Inputs.Concat(data.Targets)
            .Sum(t => t.shape[0] == 0 ? 0 : t.ElementSize * t.numel() / t.shape[0]);
        var batches = bytesPerExample == 0 ? MaxBlockBatches : Math.Clamp(MaxBlockBytes / (bytesPerExample * batchSize), 1, MaxBlockBatches);
        _blockLength = batches * batchSize;
    }

    /// <summary>Gathers the block that starts at <paramref name="start"/> unless the current one holds it (call before
    /// the step's dispose scope: the block outlives the step).</summary>
    public void EnsureHolds(long start)
    {
        if (_blockStart >= 0 && start >= _blockStart && start < _blockStart + _blockLength) return;
        DisposeBlock();
        _blockStart = start;
        var length = Math.Min(_blockLength, _order.shape[0] - start);
        using var index = _order.narrow(0, start, length);
        _block = _data.Inputs.Concat(_data.Targets).Select(t => t.index_select(0, index).DetachFromDisposeScope()).ToArray();
    }

    public Tensor[] Inputs(long start, long length) => Slice(0, _data.Inputs.Count, start, length);

    public Tensor[] Targets(long start, long length) => Slice(_data.Inputs.Count, _data.Targets.Count, start, length);

    private Tensor[] Slice(int first, int count, long start, long length)
    {
        var result = new Tensor[count];
        for (var i = 0; i < count; i++) result[i] = _block[first + i].narrow(0, start - _blockStart, length);
        return result;
    }

    private void DisposeBlock()
    {
        foreach (var t in _block) t.Dispose();
        _block = [];
    }

    public void Dispose() => DisposeBlock();
}
