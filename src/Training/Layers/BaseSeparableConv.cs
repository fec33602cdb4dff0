using System.Text.Json;
using TorchSharp.Modules;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// What every separable convolution has, as in Keras's <c>BaseSeparableConv</c>: a depthwise convolution (the keys of
/// <see cref="BaseDepthwiseConv"/>: kernel size, strides, padding, dilation, depth_multiplier) followed by a pointwise
/// (1×…×1) convolution to <c>filters</c> channels, then the bias and the activation. Keras's variables are
/// <c>depthwise_kernel (k…, in, m)</c>, <c>pointwise_kernel (1…, in·m, filters)</c> and <c>bias (filters)</c>.
/// </summary>
public abstract record BaseSeparableConv : BaseDepthwiseConv
{
    protected BaseSeparableConv(int rank) : base(rank) { }

    [Range(1)] public required int Filters { get; init; }
    public Initializer PointwiseInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Regularizer? PointwiseRegularizer { get; init; }
    public JsonElement? PointwiseConstraint { get; init; }

    public override IEnumerable<SpecError> Validate(string path) =>
        base.Validate(path).Concat(Constraints.RejectSet(path, ("pointwise_constraint", PointwiseConstraint)));

    public override Shape[] OutputShapes(Shape[] inputs) => [Output(inputs[0], Filters)];

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        (DepthwiseKernelSize(inputs[0]) + (long)DepthwiseChannels(inputs[0]) * Filters + (UseBias ? Filters : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0], context);

    private sealed class Module : UnaryModule
    {
        private readonly BaseSeparableConv _c;
        private readonly Parameter depthwise_weight;
        private readonly Parameter pointwise_weight;
        private readonly Parameter? bias;
        private readonly long _groups;
        private readonly int[] _ones;
        private readonly Func<Tensor, Tensor> _activation;

        public Module(BaseSeparableConv c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            _groups = input.Last;
            _ones = Enumerable.Repeat(1, c.Rank).ToArray();
            _activation = ActivationRegistry.Get(c.Activation);
            depthwise_weight = DepthwiseWeight(c, input, context);
            long[] keras = [.. _ones.Select(o => (long)o), (long)input.Last * c.DepthMultiplier, c.Filters];
            using (var kernel = c.PointwiseInitializer.Create(keras, context.Rng))
            using (var torchLayout = kernel.permute(Layout.KerasKernelToTorch(c.Rank)))
                pointwise_weight = new Parameter(torchLayout.contiguous());
            if (c.UseBias) bias = new Parameter(c.BiasInitializer.Create([c.Filters], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var d = ConvModule.Convolve(input, depthwise_weight, null, _c.Padding, _c.KernelSize, _c.Strides, _c.DilationRate, _groups);
            var z = ConvModule.Convolve(d, pointwise_weight, bias, "valid", _ones, _ones, _ones, 1);
            return Activate(z, _c.Activation, _activation, _c.ActivityRegularizer, context);
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.DepthwiseRegularizer is not null) yield return _c.DepthwiseRegularizer.Penalty(depthwise_weight);
            if (_c.PointwiseRegularizer is not null) yield return _c.PointwiseRegularizer.Penalty(pointwise_weight);
            if (_c.BiasRegularizer is not null && bias is not null) yield return _c.BiasRegularizer.Penalty(bias);
        }
    }
}
