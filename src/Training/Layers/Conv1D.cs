using System.Text.Json;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv1D on (steps, channels) inputs; <c>padding</c> "causal" pads only the start, so step t sees
/// steps ≤ t. Computes on an (N, C, L) view.</summary>
[KerasName("Conv1D", "Convolution1D")]
public sealed record Conv1D : Layer
{
    [Range(1)] public required int Filters { get; init; }
    [Tuple(1), Range(1)] public required int[] KernelSize { get; init; }
    [Tuple(1), Range(1)] public int[] Strides { get; init; } = [1];
    [OneOf("valid", "same", "causal")] public string Padding { get; init; } = "valid";
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    [Tuple(1), Range(1)] public int[] DilationRate { get; init; } = [1];
    [Range(1)] public int Groups { get; init; } = 1;
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
        if (Strides[0] > 1 && DilationRate[0] > 1)
            yield return new SpecError($"{path}.strides", "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
        if (Filters % Groups != 0) yield return new SpecError($"{path}.groups", $"filters ({Filters}) must be divisible by groups ({Groups})");
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 2, x.Rank == 1 ? "add Reshape to (steps, 1) or an Embedding" : "use Conv2D for images, or add Reshape");
        if (x.Last < 0) throw Expects("a known channel dimension", x);
        if (x.Last % Groups != 0) throw Expects($"input channels divisible by groups ({Groups})", x);
        // "causal" pads (k-1)·d at the start: as many outputs as "same".
        var steps = Layers.Padding.OutputSize(x[0], KernelSize[0], Strides[0], DilationRate[0], Padding == "causal" ? "same" : Padding);
        if (steps == 0) throw Expects($"at least {Layers.Padding.EffectiveKernel(KernelSize[0], DilationRate[0])} steps for kernel_size {KernelSize[0]}", x, "use padding \"same\" or a smaller kernel");
        return [new Shape(steps, Filters)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)KernelSize[0] * (inputs[0].Last / Groups) * Filters + (UseBias ? Filters : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Conv1DModule(this, inputs[0], context);

    private sealed class Conv1DModule : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter weight;
        private readonly TorchSharp.Modules.Parameter? bias;
        private readonly Conv1D _c;
        private readonly Func<Tensor, Tensor> _activation;

        public Conv1DModule(Conv1D c, Shape input, BuildContext context) : base(c.Name)
        {
            _c = c;
            _activation = ActivationRegistry.Get(c.Activation);
            // Keras kernel (k, in/groups, out) -> torch (out, in/groups, k)
            using var kernel = c.KernelInitializer.Create([c.KernelSize[0], input.Last / c.Groups, c.Filters], context.Rng);
            using var torchLayout = kernel.permute(2, 1, 0); // a view: disposed here, or it keeps the kernel alive
            weight = new TorchSharp.Modules.Parameter(torchLayout.contiguous());
            if (c.UseBias) bias = new TorchSharp.Modules.Parameter(c.BiasInitializer.Create([c.Filters], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var x = input.permute(0, 2, 1);
            var (k, s, d) = (_c.KernelSize[0], _c.Strides[0], _c.DilationRate[0]);
            if (_c.Padding == "causal") x = nn.functional.pad(x, [Layers.Padding.EffectiveKernel(k, d) - 1, 0]);
            else if (_c.Padding == "same")
            {
                var (before, after) = Layers.Padding.Same((int)input.shape[1], k, s, d);
                if (before + after > 0) x = nn.functional.pad(x, [before, after]);
            }
            var z = nn.functional.conv1d(x, weight, bias, stride: s, dilation: d, groups: _c.Groups).permute(0, 2, 1);
            return Activate(z, _c.Activation, _activation, _c.ActivityRegularizer, context);
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.KernelRegularizer is not null) yield return _c.KernelRegularizer.Penalty(weight);
            if (_c.BiasRegularizer is not null && bias is not null) yield return _c.BiasRegularizer.Penalty(bias);
        }
    }
}
