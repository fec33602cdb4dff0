using System.Text.Json;
using TorchSharp.Modules;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// What every depthwise convolution has, as in Keras's <c>BaseDepthwiseConv</c>: each input channel convolved on its
/// own with <c>depth_multiplier</c> kernels, output channel <c>c·depth_multiplier + m</c> (TensorFlow's order, which is
/// torch's grouped convolution with groups = input channels). The kernel is Keras's <c>(k₁, …, k_rank, in,
/// depth_multiplier)</c>. <c>groups</c> is read because tf.keras writes it (always 1).
/// </summary>
public abstract record BaseDepthwiseConv : Layer, ISpatialConfig
{
    protected BaseDepthwiseConv(int rank)
    {
        Rank = rank;
        Strides = Enumerable.Repeat(1, rank).ToArray();
        DilationRate = Enumerable.Repeat(1, rank).ToArray();
    }

    public int Rank { get; }

    [Range(1)] public int DepthMultiplier { get; init; } = 1;
    [Tuple, Range(1)] public required int[] KernelSize { get; init; }
    [Tuple, Range(1)] public int[] Strides { get; init; }
    [OneOf("valid", "same")] public string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    [Tuple, Range(1)] public int[] DilationRate { get; init; }
    [Range(1, 1)] public int Groups { get; init; } = 1;
    [ActivationName] public string? Activation { get; init; } = "linear";
    public bool UseBias { get; init; } = true;
    public Initializer DepthwiseInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? DepthwiseRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public JsonElement? DepthwiseConstraint { get; init; }
    public JsonElement? BiasConstraint { get; init; }

    public override IEnumerable<SpecError> Validate(string path)
    {
        foreach (var e in Constraints.RejectSet(path, ("depthwise_constraint", DepthwiseConstraint), ("bias_constraint", BiasConstraint))) yield return e;
        if (Strides.Any(s => s > 1) && DilationRate.Any(d => d > 1))
            yield return new SpecError($"{path}.strides", "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
    }

    /// <summary>The channels the depthwise step produces: input channels × depth_multiplier.</summary>
    protected int DepthwiseChannels(Shape x) => x.Last * DepthMultiplier;

    protected long DepthwiseKernelSize(Shape x) => KernelSize.Aggregate(1L, (n, k) => n * k) * DepthwiseChannels(x);

    /// <summary>Output spatial sizes (and the input checks); <paramref name="channels"/> is the last axis.</summary>
    protected Shape Output(Shape x, int channels)
    {
        RequireRank(x, Rank + 1, Rank == x.Rank ? $"add Reshape to ({string.Join(", ", Enumerable.Repeat("…", Rank))}, 1)" : null);
        if (x.Last < 0) throw Expects("a known channel dimension", x);
        var dims = new int[Rank + 1];
        for (var i = 0; i < Rank; i++)
            dims[i] = Layers.Padding.OutputSize(x[i], KernelSize[i], Strides[i], DilationRate[i], Padding);
        dims[Rank] = channels;
        if (dims.Contains(0)) throw Expects($"an input at least as large as the kernel {string.Join("x", KernelSize)}", x, "use padding \"same\" or a smaller kernel");
        return new Shape(dims);
    }

    public override Shape[] OutputShapes(Shape[] inputs) => [Output(inputs[0], DepthwiseChannels(inputs[0]))];

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        (DepthwiseKernelSize(inputs[0]) + (UseBias ? DepthwiseChannels(inputs[0]) : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0], context);

    /// <summary>A depthwise kernel created in Keras's layout <c>(k…, in, m)</c> (the initializer sees Keras's fans) and
    /// stored as torch's grouped weight <c>(in·m, 1, k…)</c>.</summary>
    internal static Parameter DepthwiseWeight(BaseDepthwiseConv c, Shape input, BuildContext context)
    {
        long[] keras = [.. c.KernelSize.Select(k => (long)k), input.Last, c.DepthMultiplier];
        using var kernel = c.DepthwiseInitializer.Create(keras, context.Rng);
        using var flat = kernel.reshape([.. c.KernelSize.Select(k => (long)k), 1, input.Last * c.DepthMultiplier]);
        using var torchLayout = flat.permute(Layout.KerasKernelToTorch(c.Rank));
        return new Parameter(torchLayout.contiguous());
    }

    private sealed class Module : UnaryModule
    {
        private readonly BaseDepthwiseConv _c;
        private readonly Parameter weight;
        private readonly Parameter? bias;
        private readonly long _groups;
        private readonly Func<Tensor, Tensor> _activation;

        public Module(BaseDepthwiseConv c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            _groups = input.Last;
            _activation = ActivationRegistry.Get(c.Activation);
            weight = DepthwiseWeight(c, input, context);
            if (c.UseBias) bias = new Parameter(c.BiasInitializer.Create([input.Last * c.DepthMultiplier], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var z = ConvModule.Convolve(input, weight, bias, _c.Padding, _c.KernelSize, _c.Strides, _c.DilationRate, _groups);
            return Activate(z, _c.Activation, _activation, _c.ActivityRegularizer, context);
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.DepthwiseRegularizer is not null) yield return _c.DepthwiseRegularizer.Penalty(weight);
            if (_c.BiasRegularizer is not null && bias is not null) yield return _c.BiasRegularizer.Penalty(bias);
        }
    }
}
