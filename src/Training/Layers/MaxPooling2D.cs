using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras MaxPooling2D on (H, W, C); <c>strides</c> defaults to <c>pool_size</c>.</summary>
[KerasName("MaxPooling2D", "MaxPool2D")]
public sealed record MaxPooling2D : Layer
{
    [Tuple(2), Range(1)] public int[] PoolSize { get; init; } = [2, 2];
    [Tuple(2), Range(1)] public int[]? Strides { get; init; }
    [OneOf("valid", "same")] public string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";

    private int[] Stride => Strides ?? PoolSize;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3);
        var h = Layers.Padding.OutputSize(x[0], PoolSize[0], Stride[0], 1, Padding);
        var w = Layers.Padding.OutputSize(x[1], PoolSize[1], Stride[1], 1, Padding);
        if (h == 0 || w == 0) throw Expects($"an input at least {PoolSize[0]}x{PoolSize[1]}", x, "use padding \"same\"");
        return [new Shape(h, w, x[2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new PoolModule(this, inputs[0]);

    private sealed class PoolModule : UnaryModule
    {
        private readonly long[] _kernel, _stride;
        private readonly long[]? _pad;

        public PoolModule(MaxPooling2D p, Shape input) : base(p.Name)
        {
            _kernel = [p.PoolSize[0], p.PoolSize[1]];
            _stride = [p.Stride[0], p.Stride[1]];
            if (p.Padding == "same")
            {
                var (t, b) = Layers.Padding.Same(input[0], p.PoolSize[0], p.Stride[0], 1);
                var (l, r) = Layers.Padding.Same(input[1], p.PoolSize[1], p.Stride[1], 1);
                if (t + b + l + r > 0) _pad = [l, r, t, b];
            }
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.permute(0, 3, 1, 2);
            if (_pad is not null) x = nn.functional.pad(x, _pad, value: double.NegativeInfinity);
            return nn.functional.max_pool2d(x, _kernel, _stride).permute(0, 2, 3, 1);
        }
    }
}
