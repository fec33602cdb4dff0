using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>The shape rule and module of <see cref="BasePooling"/>. "same" pads as Keras does
/// (extra at the end); max pooling pads with −∞ and average pooling leaves padding out of the average
/// (Keras's <c>count_include_pad=False</c>).</summary>
internal static class Pooling
{
    public static Shape OutputShape(Shape x, int[] pool, int[] stride, string padding, Func<string, Shape, string?, ShapeException> expects)
    {
        var spatial = pool.Length;
        if (x.Rank != spatial + 1)
            throw expects($"a {spatial + 1}-D input ({(spatial == 1 ? "steps, channels" : "H, W, C")})", x,
                x.Rank < spatial + 1 ? "add Reshape" : spatial == 1 ? "use a 2-D pooling layer for images" : "add Reshape or use a 3-D layout");
        var dims = new int[x.Rank];
        for (var i = 0; i < spatial; i++)
        {
            dims[i] = Padding.OutputSize(x[i], pool[i], stride[i], 1, padding);
            if (dims[i] == 0)
                throw expects($"an input at least {string.Join("x", pool)}", x, "use padding \"same\" or a smaller pool_size");
        }
        dims[^1] = x.Last;
        return new Shape(dims);
    }
}

internal sealed class PoolingModule(string name, bool max, int[] pool, int[] stride, string padding) : UnaryModule(name)
{
    public override Tensor Forward(Tensor input, ForwardContext context)
    {
        var spatial = pool.Length;
        var x = spatial == 1 ? input.permute(0, 2, 1) : input.permute(0, 3, 1, 2);
        long[]? pad = null;
        if (padding == "same")
        {
            pad = new long[2 * spatial];
            for (var i = 0; i < spatial; i++)
            {
                var (before, after) = Padding.Same((int)input.shape[1 + i], pool[i], stride[i], 1);
                // F.pad lists the last axis first.
                pad[2 * (spatial - 1 - i)] = before;
                pad[2 * (spatial - 1 - i) + 1] = after;
            }
            if (pad.All(p => p == 0)) pad = null;
        }
        Tensor y;
        if (max)
        {
            if (pad is not null) x = nn.functional.pad(x, pad, value: double.NegativeInfinity);
            y = spatial == 1 ? nn.functional.max_pool1d(x, pool[0], stride[0]) : nn.functional.max_pool2d(x, [pool[0], pool[1]], [stride[0], stride[1]]);
        }
        else if (pad is null) y = Average(x);
        else
        {
            // Average over the real elements only: the zero-padded sum divided by the share of real elements.
            var sum = Average(nn.functional.pad(x, pad));
            using var ones = TorchSharp.torch.ones([1, 1, .. x.shape.Skip(2)], x.dtype, x.device);
            using var share = Average(nn.functional.pad(ones, pad));
            y = sum / share;
        }
        return spatial == 1 ? y.permute(0, 2, 1) : y.permute(0, 2, 3, 1);
    }

    private Tensor Average(Tensor x) => pool.Length == 1
        ? nn.functional.avg_pool1d(x, pool[0], stride[0])
        : nn.functional.avg_pool2d(x, [pool[0], pool[1]], [stride[0], stride[1]]);
}
