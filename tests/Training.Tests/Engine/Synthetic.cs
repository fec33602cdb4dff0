using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>Small learnable datasets made from a fixed seed.</summary>
public static class Synthetic
{
    /// <summary>Points in 8-D labelled by which of 3 fixed random directions they align with most.</summary>
    public static ArrayDataset Blobs(int count, int seed = 7)
    {
        using var g = new Generator((ulong)seed);
        var x = randn([count, 8], generator: g);
        using var directions = randn([8, 3], generator: g);
        var y = x.matmul(directions).argmax(1);
        return new ArrayDataset([x], [y]);
    }
}
