using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>The module of a <see cref="BaseConv"/>: computes in a channels-first view of the channels-last input.
/// "same" padding that splits evenly goes to the convolution; an uneven split (the extra goes at the end, as in
/// Keras) and "causal" padding are applied with an explicit pad first.</summary>
internal sealed class ConvModule : KernelModule
{
    private readonly BaseConv _c;

    public ConvModule(BaseConv c, Shape input, BuildContext context)
        : base(c, [.. c.KernelSize.Select(k => (long)k), input.Last / c.Groups, c.Filters], Layout.KerasKernelToTorch(c.Rank), c.Filters, context)
    {
        _c = c;
    }

    public override Tensor Forward(Tensor input, ForwardContext context)
    {
        var rank = _c.Rank;
        var x = input.permute(Layout.ToChannelsFirst(rank));
        var symmetric = new long[rank];
        if (_c.Padding != "valid")
        {
            var pad = new long[2 * rank];   // F.pad lists the last axis first
            for (var i = 0; i < rank; i++)
            {
                var (before, after) = _c.Padding == "causal"
                    ? (Padding.EffectiveKernel(_c.KernelSize[i], _c.DilationRate[i]) - 1, 0)
                    : Padding.Same((int)input.shape[1 + i], _c.KernelSize[i], _c.Strides[i], _c.DilationRate[i]);
                pad[2 * (rank - 1 - i)] = before;
                pad[2 * (rank - 1 - i) + 1] = after;
            }
            if (_c.Padding == "same" && Enumerable.Range(0, rank).All(i => pad[2 * i] == pad[2 * i + 1]))
                for (var i = 0; i < rank; i++) symmetric[i] = pad[2 * (rank - 1 - i)];
            else if (pad.Any(p => p > 0)) x = nn.functional.pad(x, pad);
        }
        var strides = _c.Strides.Select(s => (long)s).ToArray();
        var dilation = _c.DilationRate.Select(d => (long)d).ToArray();
        var z = rank switch
        {
            1 => nn.functional.conv1d(x, Weight, Bias, stride: strides[0], padding: symmetric[0], dilation: dilation[0], groups: _c.Groups),
            2 => nn.functional.conv2d(x, Weight, Bias, strides: strides, padding: symmetric, dilation: dilation, groups: _c.Groups),
            _ => nn.functional.conv3d(x, Weight, Bias, strides: strides, padding: symmetric, dilation: dilation, groups: _c.Groups),
        };
        return Activate(z.permute(Layout.ToChannelsLast(rank)), context);
    }
}
