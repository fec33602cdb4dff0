namespace TrainingService.Training.Layers;

/// <summary>The memory layout a convolution (Conv1D/2D/3D) computes in. Tensors between layers are always Keras's
/// channels-last ones; this is only what libtorch is handed. Measured in docs/benchmarks.md, section 2
/// (<c>EngineBench cnn --layouts</c>): <see cref="ChannelsFirst"/> was 1.1–3.6× slower than the default, and
/// <see cref="ChannelsLastKernels"/> showed no repeatable difference.</summary>
public enum ConvolutionLayout
{
    /// <summary>The channels-last input passed as its channels-first permuted view, which is libtorch's channels_last
    /// memory format: oneDNN computes in NHWC, with no copy of the input and none of the output. The default.</summary>
    ChannelsLast,

    /// <summary>A dense channels-first copy of the input before each convolution: what a TorchSharp user writes (and the
    /// hand-written benchmark loop does). For comparisons.</summary>
    ChannelsFirst,

    /// <summary><see cref="ChannelsLast"/>, and the 2-D kernels stored in channels_last memory order too (torch's
    /// (out, in, kH, kW) shape over (out, kH, kW, in) memory), so oneDNN need not reorder them. For comparisons.</summary>
    ChannelsLastKernels,
}
