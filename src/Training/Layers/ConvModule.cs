using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>The module of a <see cref="BaseConv"/>: computes in a channels-first view of the channels-last input
/// (<see cref="Convolve"/>, shared with the depthwise and separable convolutions).</summary>
internal sealed class ConvModule : KernelModule
{
    private readonly BaseConv _c;

    public ConvModule(BaseConv c, Shape input, BuildContext context)
        : base(c, [.. c.KernelSize.Select(k => (long)k), input.Last / c.Groups, c.Filters], Layout.KerasKernelToTorch(c.Rank), c.Filters, context)
    {
        _c = c;
    }

    /// <summary>What libtorch is handed (see <see cref="ConvolutionLayout"/>); set through <see cref="UseLayout"/>.</summary>
    public ConvolutionLayout ConvolutionLayout { get; private set; }

    /// <summary>Computes in <paramref name="layout"/> from now on; <see cref="ConvolutionLayout.ChannelsLastKernels"/> moves
    /// a 2-D kernel's storage into channels_last order (and any other layout moves it back). Call before training: the
    /// fused optimizer's flat buffers keep the order the parameters had when they were made.</summary>
    public void UseLayout(ConvolutionLayout layout)
    {
        ConvolutionLayout = layout;
        if (_c.Rank != 2) return;
        using var _ = no_grad();
        if (layout == ConvolutionLayout.ChannelsLastKernels)
        {
            // TorchSharp 0.107 has no contiguous(memory_format): (out, kH, kW, in) memory seen as (out, in, kH, kW).
            using var memory = Weight.permute(0, 2, 3, 1).contiguous();
            using var channelsLast = memory.permute(0, 3, 1, 2);
            Weight.set_(channelsLast);
        }
        else if (!Weight.is_contiguous())
        {
            using var dense = Weight.contiguous();
            Weight.set_(dense);
        }
    }

    public override Tensor Forward(Tensor input, ForwardContext context) =>
        Activate(Convolve(input, Weight, Bias, _c.Padding, _c.KernelSize, _c.Strides, _c.DilationRate, _c.Groups,
            denseChannelsFirst: ConvolutionLayout == ConvolutionLayout.ChannelsFirst), context);

    /// <summary>
    /// A convolution of a channels-last input with a torch-layout weight <c>(out, in / groups, k…)</c>, returned
    /// channels-last. "same" padding that splits evenly goes to the convolution; an uneven split (the extra goes at the
    /// end, as in Keras) and "causal" padding are applied with an explicit pad first. The permuted view libtorch gets is
    /// its channels_last memory format (oneDNN computes in NHWC, no copy); <paramref name="denseChannelsFirst"/> copies it
    /// to dense NCHW first instead (see <see cref="ConvolutionLayout.ChannelsFirst"/>).
    /// </summary>
    public static Tensor Convolve(Tensor input, Tensor weight, Tensor? bias, string padding, int[] kernel, int[] strides, int[] dilation, long groups,
        bool denseChannelsFirst = false)
    {
        var rank = kernel.Length;
        var x = input.permute(Layout.ToChannelsFirst(rank));
        // libtorch's CPU grouped convolution reads a channels-last strided input wrongly (the permuted view above is
        // exactly that layout): the grouped case gets a dense copy. Covered by a hand-computed test.
        if (groups > 1 || denseChannelsFirst) x = x.contiguous();
        var symmetric = new long[rank];
        if (padding != "valid")
        {
            var pad = new long[2 * rank];   // F.pad lists the last axis first
            for (var i = 0; i < rank; i++)
            {
                var (before, after) = padding == "causal"
                    ? (Padding.EffectiveKernel(kernel[i], dilation[i]) - 1, 0)
                    : Padding.Same((int)input.shape[1 + i], kernel[i], strides[i], dilation[i]);
                pad[2 * (rank - 1 - i)] = before;
                pad[2 * (rank - 1 - i) + 1] = after;
            }
            if (padding == "same" && Enumerable.Range(0, rank).All(i => pad[2 * i] == pad[2 * i + 1]))
                for (var i = 0; i < rank; i++) symmetric[i] = pad[2 * (rank - 1 - i)];
            else if (pad.Any(p => p > 0)) x = nn.functional.pad(x, pad);
        }
        var s = strides.Select(v => (long)v).ToArray();
        var d = dilation.Select(v => (long)v).ToArray();
        var z = rank switch
        {
            1 => nn.functional.conv1d(x, weight, bias, stride: s[0], padding: symmetric[0], dilation: d[0], groups: groups),
            2 => nn.functional.conv2d(x, weight, bias, strides: s, padding: symmetric, dilation: d, groups: groups),
            _ => nn.functional.conv3d(x, weight, bias, strides: s, padding: symmetric, dilation: d, groups: groups),
        };
        return z.permute(Layout.ToChannelsLast(rank));
    }
}
