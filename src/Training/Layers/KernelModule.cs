using TorchSharp.Modules;
using TrainingService.Training.Activations;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>The module part every <see cref="KernelLayer"/> shares: the kernel, created in Keras's layout (so the
/// initializer sees Keras's fans) and stored in torch's; the bias; the activation; the kernel/bias penalties. The
/// parameters are named <c>weight</c> and <c>bias</c>, as torch's own layers name them (saved weights and the Keras
/// weight mapping rely on it).</summary>
internal abstract class KernelModule : UnaryModule
{
    protected readonly Parameter Weight;
    protected readonly Parameter? Bias;
    private readonly KernelLayer _config;
    private readonly Func<Tensor, Tensor> _activation;

    /// <param name="kerasKernelShape">The kernel's shape as Keras holds it.</param>
    /// <param name="toTorch">The permutation from Keras's kernel layout to torch's.</param>
    /// <param name="biasSize">The number of bias values (the output channels).</param>
    protected KernelModule(KernelLayer config, long[] kerasKernelShape, long[] toTorch, long biasSize, BuildContext context) : base(config.Name)
    {
        _config = config;
        _activation = ActivationRegistry.Get(config.Activation);
        using var kernel = config.KernelInitializer.Create(kerasKernelShape, context.Rng);
        Weight = new Parameter(kernel.permute(toTorch).contiguous());
        register_parameter("weight", Weight);
        if (config.UseBias)
        {
            Bias = new Parameter(config.BiasInitializer.Create([biasSize], context.Rng));
            register_parameter("bias", Bias);
        }
    }

    /// <summary>The activation of the pre-activation values <paramref name="z"/> (see <see cref="LayerModule.Activate"/>).</summary>
    protected Tensor Activate(Tensor z, ForwardContext context) => Activate(z, _config.Activation, _activation, _config.ActivityRegularizer, context);

    public override IEnumerable<Tensor> Penalties()
    {
        if (_config.KernelRegularizer is not null) yield return _config.KernelRegularizer.Penalty(Weight);
        if (_config.BiasRegularizer is not null && Bias is not null) yield return _config.BiasRegularizer.Penalty(Bias);
    }
}
