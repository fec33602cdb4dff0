using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>The module of a <see cref="BaseConvTranspose"/>: the full transposed convolution is computed, then cropped
/// (TensorFlow crops the smaller half of "same"'s padding at the start) or zero-extended at the end to Keras's output
/// size; the bias is added last, as in TensorFlow.</summary>
internal sealed class ConvTransposeModule : KernelModule
{
    private readonly BaseConvTranspose _c;

    public ConvTransposeModule(BaseConvTranspose c, Shape input, BuildContext context)
        : base(c, [.. c.KernelSize.Select(k => (long)k), c.Filters, input.Last], Layout.KerasKernelToTorch(c.Rank), c.Filters, context)
    {
        _c = c;
    }

    public override Tensor Forward(Tensor input, ForwardContext context)
    {
        var rank = _c.Rank;
        var x = input.permute(Layout.ToChannelsFirst(rank));
        var strides = _c.Strides.Select(s => (long)s).ToArray();
        var dilation = _c.DilationRate.Select(d => (long)d).ToArray();
        var z = rank switch
        {
            1 => nn.functional.conv_transpose1d(x, Weight, null, stride: strides[0], dilation: dilation[0]),
            2 => nn.functional.conv_transpose2d(x, Weight, null, strides: strides, dilation: dilation),
            _ => nn.functional.conv_transpose3d(x, Weight, null, strides: strides, dilation: dilation),
        };
        var extra = new long[2 * rank];   // zeros added at the end of each axis; F.pad lists the last axis first
        var crops = new (long Start, long Size)[rank];
        for (var i = 0; i < rank; i++)
        {
            var full = z.shape[2 + i];
            var want = _c.OutputSize((int)input.shape[1 + i], i);
            var start = _c.Padding == "same" ? Math.Max(0, full - want) / 2 : 0;
            extra[2 * (rank - 1 - i) + 1] = Math.Max(0, start + want - full);
            crops[i] = (start, want);
        }
        if (extra.Any(e => e > 0)) z = nn.functional.pad(z, extra);
        for (var i = 0; i < rank; i++) z = z.narrow(2 + i, crops[i].Start, crops[i].Size);
        z = z.permute(Layout.ToChannelsLast(rank));
        if (Bias is not null) z = z + Bias;
        return Activate(z, context);
    }
}
