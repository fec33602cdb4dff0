using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// The convolutions beyond Conv1D/Conv2D (grouped, depthwise, separable, transposed 1-D, 3-D) loaded from
/// <c>.keras</c> archives with kernels in Keras's layouts, predicting forward passes computed here by the definitions
/// (TensorFlow's depthwise channel order c·m + j, grouped input slices, the transposed scatter).
/// </summary>
public class ConvolutionArchiveTests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    private static float[] Values(int n, int seed) => Enumerable.Range(0, n).Select(i => (float)(0.5 * Math.Sin(1.3 * i + seed))).ToArray();

    private static float[] Predict(string nativeModel, Dictionary<string, (float[], long[])> variables, float[] x, long[] shape)
    {
        JsonNode config = KerasExporter.Export(TrainingPlan.Parse(SpecFiles.Json(nativeModel), Mse, null).Model);
        var import = KerasArchive.Import(KerasArchive.Create(config, variables));
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(import.Conversion.Model), Mse, SpecFiles.Json("""{"batch_size": 4, "seed": 1}"""));
        using var session = ModelSession.Restore(plan, import.Weights!);
        return session.Predict([tensor(x, shape)])[0].data<float>().ToArray();
    }

    private static void Near(double expected, float actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5, $"expected {expected}, got {actual}");

    [Fact]
    public void GroupedConv2D_EachGroupOfFiltersReadsItsOwnSliceOfChannels()
    {
        // 4 input channels, groups 2: filters 0-1 read channels 0-1, filters 2-3 channels 2-3. Kernel (2, 2, in/groups, filters).
        const int h = 4, w = 4, cin = 4, f = 4, g = 2;
        var k = Values(2 * 2 * 2 * f, 1); var bias = Values(f, 2);
        var x = Values(2 * h * w * cin, 3);
        var y = Predict("""{"input_shape": [4, 4, 4], "layers": [{"type": "Conv2D", "filters": 4, "kernel_size": 2, "groups": 2}]}""",
            new() { ["layers/conv2d/vars/0"] = (k, [2, 2, 2, f]), ["layers/conv2d/vars/1"] = (bias, [f]) }, x, [2, h, w, cin]);
        Assert.Equal(2 * 3 * 3 * f, y.Length);
        for (var n = 0; n < 2; n++)
        for (var i = 0; i < 3; i++)
        for (var j = 0; j < 3; j++)
        for (var o = 0; o < f; o++)
        {
            double z = bias[o];
            var group = o / (f / g);
            for (var di = 0; di < 2; di++)
            for (var dj = 0; dj < 2; dj++)
            for (var c = 0; c < cin / g; c++)
                z += x[((n * h + i + di) * w + j + dj) * cin + group * (cin / g) + c] * k[((di * 2 + dj) * 2 + c) * f + o];
            Near(z, y[((n * 3 + i) * 3 + j) * f + o]);
        }
    }

    [Fact]
    public void GroupedConv1D_SameStride2_MatchesTheDefinition()
    {
        const int steps = 5, cin = 6, f = 3;   // groups 3: filter o reads channels 2o, 2o + 1
        var k = Values(3 * 2 * f, 4);
        var x = Values(steps * cin, 5);
        var y = Predict("""{"input_shape": [5, 6], "layers": [{"type": "Conv1D", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "groups": 3, "use_bias": false}]}""",
            new() { ["layers/conv1d/vars/0"] = (k, [3, 2, f]) }, x, [1, steps, cin]);
        // "same", stride 2 over 5 steps: 3 outputs, total padding 2, one before.
        Assert.Equal(3 * f, y.Length);
        for (var t = 0; t < 3; t++)
        for (var o = 0; o < f; o++)
        {
            double z = 0;
            for (var dk = 0; dk < 3; dk++)
            {
                var s = 2 * t - 1 + dk;
                if (s is < 0 or >= steps) continue;
                for (var c = 0; c < 2; c++) z += x[s * cin + o * 2 + c] * k[(dk * 2 + c) * f + o];
            }
            Near(z, y[t * f + o]);
        }
    }

    [Fact]
    public void DepthwiseConv2D_DepthMultiplier2_SamePadding_OrdersOutputsAsChannelTimesMultiplier()
    {
        const int h = 3, w = 3, cin = 2, m = 2;
        var k = Values(2 * 2 * cin * m, 6); var bias = Values(cin * m, 7);
        var x = Values(h * w * cin, 8);
        var y = Predict("""{"input_shape": [3, 3, 2], "layers": [{"type": "DepthwiseConv2D", "kernel_size": 2, "depth_multiplier": 2, "padding": "same"}]}""",
            new() { ["layers/depthwise_conv2d/vars/0"] = (k, [2, 2, cin, m]), ["layers/depthwise_conv2d/vars/1"] = (bias, [cin * m]) }, x, [1, h, w, cin]);
        Assert.Equal(h * w * cin * m, y.Length);
        for (var i = 0; i < h; i++)
        for (var j = 0; j < w; j++)
        for (var c = 0; c < cin; c++)
        for (var q = 0; q < m; q++)
        {
            // kernel 2, stride 1: the one padding row/column goes at the end.
            double z = bias[c * m + q];
            for (var di = 0; di < 2; di++)
            for (var dj = 0; dj < 2; dj++)
                if (i + di < h && j + dj < w) z += x[((i + di) * w + j + dj) * cin + c] * k[((di * 2 + dj) * cin + c) * m + q];
            Near(z, y[(i * w + j) * cin * m + c * m + q]);
        }
    }

    [Fact]
    public void SeparableConv1D_IsDepthwiseThenPointwise_ThenBiasAndActivation()
    {
        const int steps = 5, cin = 2, m = 2, f = 3;
        var dk = Values(3 * cin * m, 9); var pk = Values(cin * m * f, 10); var bias = Values(f, 11);
        var x = Values(steps * cin, 12);
        var y = Predict("""{"input_shape": [5, 2], "layers": [{"type": "SeparableConv1D", "filters": 3, "kernel_size": 3, "depth_multiplier": 2, "activation": "relu"}]}""",
            new()
            {
                ["layers/separable_conv1d/vars/0"] = (dk, [3, cin, m]), ["layers/separable_conv1d/vars/1"] = (pk, [1, cin * m, f]),
                ["layers/separable_conv1d/vars/2"] = (bias, [f]),
            }, x, [1, steps, cin]);
        Assert.Equal(3 * f, y.Length);
        for (var t = 0; t < 3; t++)
        {
            var d = new double[cin * m];
            for (var c = 0; c < cin; c++)
            for (var q = 0; q < m; q++)
            for (var s = 0; s < 3; s++)
                d[c * m + q] += x[(t + s) * cin + c] * dk[(s * cin + c) * m + q];
            for (var o = 0; o < f; o++)
            {
                double z = bias[o];
                for (var p = 0; p < cin * m; p++) z += d[p] * pk[p * f + o];
                Near(Math.Max(0, z), y[t * f + o]);
            }
        }
    }

    [Fact]
    public void SeparableConv2D_CountsKerasParameters_AndPredictsTheDefinition()
    {
        const int h = 4, w = 3, cin = 3, f = 2;
        var dk = Values(3 * 3 * cin, 13); var pk = Values(cin * f, 14);
        var x = Values(h * w * cin, 15);
        var model = """{"input_shape": [4, 3, 3], "layers": [{"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "use_bias": false, "padding": "same"}]}""";
        // Keras: depthwise 3·3·3·1 + pointwise 1·1·3·2, no bias.
        Assert.Equal(27 + 6, TrainingPlan.Summarize(TrainingPlan.Parse(SpecFiles.Json(model), Mse, null).Model).TotalParameters);
        var y = Predict(model, new() { ["layers/separable_conv2d/vars/0"] = (dk, [3, 3, cin, 1]), ["layers/separable_conv2d/vars/1"] = (pk, [1, 1, cin, f]) },
            x, [1, h, w, cin]);
        for (var i = 0; i < h; i++)
        for (var j = 0; j < w; j++)
        for (var o = 0; o < f; o++)
        {
            double z = 0;
            for (var c = 0; c < cin; c++)
            {
                double d = 0;
                for (var di = -1; di <= 1; di++)
                for (var dj = -1; dj <= 1; dj++)
                    if (i + di is >= 0 and < h && j + dj is >= 0 and < w) d += x[((i + di) * w + j + dj) * cin + c] * dk[((di + 1) * 3 + dj + 1) * cin + c];
                z += d * pk[c * f + o];
            }
            Near(z, y[(i * w + j) * f + o]);
        }
    }

    [Fact]
    public void Conv1DTranspose_ScattersEachStepIntoStrideSpacedWindows()
    {
        // Kernel (k, filters, in) = (3, 2, 2); 3 steps, stride 2, "valid": 3·2 + max(3 − 2, 0) = 7 outputs.
        const int steps = 3, cin = 2, f = 2;
        var k = Values(3 * f * cin, 16); var bias = Values(f, 17);
        var x = Values(steps * cin, 18);
        var y = Predict("""{"input_shape": [3, 2], "layers": [{"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3, "strides": 2}]}""",
            new() { ["layers/conv1d_transpose/vars/0"] = (k, [3, f, cin]), ["layers/conv1d_transpose/vars/1"] = (bias, [f]) }, x, [1, steps, cin]);
        Assert.Equal(7 * f, y.Length);
        var expected = new double[7, f];
        for (var t = 0; t < 7; t++)
        for (var o = 0; o < f; o++) expected[t, o] = bias[o];
        for (var s = 0; s < steps; s++)
        for (var dk = 0; dk < 3; dk++)
        for (var o = 0; o < f; o++)
        for (var c = 0; c < cin; c++)
            expected[2 * s + dk, o] += x[s * cin + c] * k[(dk * f + o) * cin + c];
        for (var t = 0; t < 7; t++)
        for (var o = 0; o < f; o++) Near(expected[t, o], y[t * f + o]);
    }

    [Fact]
    public void Conv3D_MatchesTheDefinition()
    {
        const int d = 3, cin = 1, f = 2;
        var k = Values(2 * 2 * 2 * cin * f, 19); var bias = Values(f, 20);
        var x = Values(d * d * d, 21);
        var y = Predict("""{"input_shape": [3, 3, 3, 1], "layers": [{"type": "Conv3D", "filters": 2, "kernel_size": 2}]}""",
            new() { ["layers/conv3d/vars/0"] = (k, [2, 2, 2, cin, f]), ["layers/conv3d/vars/1"] = (bias, [f]) }, x, [1, d, d, d, cin]);
        Assert.Equal(2 * 2 * 2 * f, y.Length);
        for (var a = 0; a < 2; a++)
        for (var b = 0; b < 2; b++)
        for (var c = 0; c < 2; c++)
        for (var o = 0; o < f; o++)
        {
            double z = bias[o];
            for (var da = 0; da < 2; da++)
            for (var db = 0; db < 2; db++)
            for (var dc = 0; dc < 2; dc++)
                z += x[((a + da) * d + b + db) * d + c + dc] * k[((da * 2 + db) * 2 + dc) * f + o];
            Near(z, y[((a * 2 + b) * 2 + c) * f + o]);
        }
    }
}
