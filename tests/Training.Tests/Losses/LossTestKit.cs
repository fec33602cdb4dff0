using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Losses;

internal static class LossTestKit
{
    public static Tensor T(float[,] values) => tensor(values);
    public static Tensor T(params float[] values) => tensor(values);
    public static Tensor Labels(params long[] values) => tensor(values);

    public static double[] D(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();

    public static void Close(double[] expected, Tensor actual, double tolerance = 1e-5)
    {
        var a = D(actual);
        Assert.Equal(expected.Length, a.Length);
        for (var i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]:R}, got {a[i]:R}");
    }

    public static double Clip(double p) => Math.Clamp(p, 1e-7, 1 - 1e-7);
}
