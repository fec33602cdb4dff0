using System.Text.Json;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras Conv2DTranspose on (H, W, C). Output size per axis follows Keras (<c>deconv_output_length</c>): "same" gives
/// <c>in·stride</c>, "valid" <c>in·stride + max(k − stride, 0)</c>, or with <c>output_padding</c>
/// <c>(in−1)·stride + k − 2·pad + output_padding</c>. The full transposed convolution is computed, then cropped
/// (TensorFlow crops the smaller half of "same"'s padding at the start) or zero-extended at the end; the bias is added
/// last, as in TensorFlow.
/// </summary>
[KerasName("Conv2DTranspose", "Convolution2DTranspose")]
public sealed record Conv2DTranspose : Layer
{
    [Range(1)] public required int Filters { get; init; }
    [Tuple(2), Range(1)] public required int[] KernelSize { get; init; }
    [Tuple(2), Range(1)] public int[] Strides { get; init; } = [1, 1];
    [OneOf("valid", "same")] public string Padding { get; init; } = "valid";
    [Tuple(2), Range(0)] public int[]? OutputPadding { get; init; }
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    [Tuple(2), Range(1)] public int[] DilationRate { get; init; } = [1, 1];
    [ActivationName] public string? Activation { get; init; } = "linear";
    public bool UseBias { get; init; } = true;
    public Initializer KernelInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? KernelRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public JsonElement? KernelConstraint { get; init; }
    public JsonElement? BiasConstraint { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var error in Constraints.RejectSet(path, ("kernel_constraint", KernelConstraint), ("bias_constraint", BiasConstraint))) yield return error;
        if (OutputPadding is not null && (OutputPadding[0] >= Strides[0] || OutputPadding[1] >= Strides[1]))
            yield return new SpecError($"{path}.output_padding", $"[{string.Join(", ", OutputPadding)}] must be smaller than strides [{string.Join(", ", Strides)}] (as in Keras)");
    }

    internal int OutputSize(int input, int axis)
    {
        if (input < 0) return -1;
        var k = Layers.Padding.EffectiveKernel(KernelSize[axis], DilationRate[axis]);
        var s = Strides[axis];
        if (OutputPadding is null) return Padding == "same" ? input * s : input * s + Math.Max(k - s, 0);
        var pad = Padding == "same" ? k / 2 : 0;
        return (input - 1) * s + k - 2 * pad + OutputPadding[axis];
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3, x.Rank == 2 ? "add Reshape to (H, W, 1)" : null);
        if (x.Last < 0) throw Expects("a known channel dimension", x);
        var (h, w) = (OutputSize(x[0], 0), OutputSize(x[1], 1));
        if (h == 0 || w == 0) throw Expects("an input giving a non-empty output", x);
        return [new Shape(h, w, Filters)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)KernelSize[0] * KernelSize[1] * inputs[0].Last * Filters + (UseBias ? Filters : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0], context);

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter weight;
        private readonly TorchSharp.Modules.Parameter? bias;
        private readonly Conv2DTranspose _c;
        private readonly Func<Tensor, Tensor> _activation;

        public Module(Conv2DTranspose c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            _activation = ActivationRegistry.Get(c.Activation);
            // Keras kernel (kh, kw, out, in) -> torch (in, out, kh, kw)
            using var kernel = c.KernelInitializer.Create([c.KernelSize[0], c.KernelSize[1], c.Filters, input.Last], context.Rng);
            using var torchLayout = kernel.permute(3, 2, 0, 1); // a view: disposed here, or it keeps the kernel alive
            weight = new TorchSharp.Modules.Parameter(torchLayout.contiguous());
            if (c.UseBias) bias = new TorchSharp.Modules.Parameter(c.BiasInitializer.Create([c.Filters], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.permute(0, 3, 1, 2);
            var full = nn.functional.conv_transpose2d(x, weight, null,
                strides: [_c.Strides[0], _c.Strides[1]], dilation: [_c.DilationRate[0], _c.DilationRate[1]]);
            var (hExtra, hStart, hSize) = Fit(full.shape[2], (int)input.shape[1], 0);
            var (wExtra, wStart, wSize) = Fit(full.shape[3], (int)input.shape[2], 1);
            var z = hExtra + wExtra > 0 ? nn.functional.pad(full, [0, wExtra, 0, hExtra]) : full;
            z = z.narrow(2, hStart, hSize).narrow(3, wStart, wSize);
            z = z.permute(0, 2, 3, 1);
            if (bias is not null) z = z + bias;
            return Activate(z, _c.Activation, _activation, _c.ActivityRegularizer, context);
        }

        /// <summary>Zeros to add at the end, crop at the start, and output size of one spatial axis.</summary>
        private (long Extra, long Start, long Size) Fit(long fullSize, int inputSize, int axis)
        {
            var want = _c.OutputSize(inputSize, axis);
            var start = _c.Padding == "same" ? Math.Max(0, fullSize - want) / 2 : 0;
            return (Math.Max(0, start + want - fullSize), start, want);
        }
    }
}
