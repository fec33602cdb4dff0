namespace TrainingService.Training.Layers;

/// <summary>Permutations between Keras's channels-last layouts and torch's channels-first ones.</summary>
internal static class Layout
{
    /// <summary>(N, spatial…, C) to (N, C, spatial…).</summary>
    public static long[] ToChannelsFirst(int rank) => [0, rank + 1, .. Enumerable.Range(1, rank).Select(i => (long)i)];

    /// <summary>(N, C, spatial…) to (N, spatial…, C).</summary>
    public static long[] ToChannelsLast(int rank) => [0, .. Enumerable.Range(2, rank).Select(i => (long)i), 1];

    /// <summary>A kernel (k…, a, b) to (b, a, k…): Keras's (k…, in, out) to torch's convolution (out, in, k…), and
    /// Keras's transposed (k…, out, in) to torch's transposed (in, out, k…).</summary>
    public static long[] KerasKernelToTorch(int rank) => [rank + 1, rank, .. Enumerable.Range(0, rank).Select(i => (long)i)];
}
