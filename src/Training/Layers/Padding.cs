namespace TrainingService.Training.Layers;

/// <summary>Keras's output sizes and "same" padding amounts (extra padding goes to the end, as in Keras).</summary>
public static class Padding
{
    public static int EffectiveKernel(int kernel, int dilation) => (kernel - 1) * dilation + 1;

    public static int OutputSize(int input, int kernel, int stride, int dilation, string padding)
    {
        if (input < 0) return -1;
        var k = EffectiveKernel(kernel, dilation);
        return padding == "same" ? (input + stride - 1) / stride : input < k ? 0 : (input - k) / stride + 1;
    }

    /// <summary>(before, after) padding of one axis for "same".</summary>
    public static (int Before, int After) Same(int input, int kernel, int stride, int dilation)
    {
        var k = EffectiveKernel(kernel, dilation);
        var outSize = (input + stride - 1) / stride;
        var total = Math.Max(0, (outSize - 1) * stride + k - input);
        return (total / 2, total - total / 2);
    }
}
