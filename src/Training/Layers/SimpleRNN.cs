using TrainingService.Training.Activations;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras SimpleRNN: <c>h = activation(x·kernel + bias + h·recurrent_kernel)</c>. Weights are drawn in Keras's layout
/// (kernel (in, u), recurrent (u, u), bias (u)) and stored in PyTorch's; Keras's one bias lives in <c>bias_ih</c> and
/// <c>bias_hh</c> stays zero and frozen. libtorch's fused kernel runs for tanh and relu without a mask or recurrent
/// dropout; otherwise a step loop does.
/// </summary>
public sealed record SimpleRNN : RecurrentConfig
{
    protected override int StateCount => 1;

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)Units * (inputs[0].Last + Units) + (UseBias ? Units : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0].Last, context);

    private sealed class Module : RecurrentModule
    {
        private readonly TorchSharp.Modules.RNN rnn;
        private readonly Func<Tensor, Tensor> _act;

        public Module(SimpleRNN c, int inputDim, BuildContext context) : base(c)
        {
            _act = ActivationRegistry.Get(c.Activation);
            rnn = nn.RNN(inputDim, c.Units, nonLinearity: c.Activation == "relu" ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh,
                bias: c.UseBias, batchFirst: true);
            using (no_grad())
            {
                using var kernel = c.KernelInitializer.Create([inputDim, c.Units], context.Rng);
                using var recurrent = c.RecurrentInitializer.Create([c.Units, c.Units], context.Rng);
                Param("weight_ih_l0").copy_(kernel.t());
                Param("weight_hh_l0").copy_(recurrent.t());
                if (c.UseBias)
                {
                    using var bias = c.BiasInitializer.Create([c.Units], context.Rng);
                    Param("bias_ih_l0").copy_(bias);
                    Param("bias_hh_l0").zero_();
                    Param("bias_hh_l0").requires_grad_(false);
                }
            }
            RegisterComponents();
        }

        private TorchSharp.Modules.Parameter Param(string name) => rnn.get_parameter(name)!;

        protected override int StateCount => 1;

        protected override bool FusedActivations => Config.Activation is "tanh" or "relu";

        protected override (Tensor Sequence, Tensor[] States) Fused(Tensor x)
        {
            var (output, hn) = rnn.forward(x, null);
            return (output, [hn[0]]);
        }

        protected override Tensor Project(Tensor x) =>
            Config.UseBias ? nn.functional.linear(x, Param("weight_ih_l0"), Param("bias_ih_l0")) : nn.functional.linear(x, Param("weight_ih_l0"));

        protected override Tensor[] Step(Tensor projected, Tensor[] states, Tensor? recurrentMask)
        {
            var h = recurrentMask is null ? states[0] : states[0] * recurrentMask;
            return [_act(projected + nn.functional.linear(h, Param("weight_hh_l0")))];
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (Config.KernelRegularizer is not null) yield return Config.KernelRegularizer.Penalty(Param("weight_ih_l0"));
            if (Config.RecurrentRegularizer is not null) yield return Config.RecurrentRegularizer.Penalty(Param("weight_hh_l0"));
            if (Config.BiasRegularizer is not null && Config.UseBias) yield return Config.BiasRegularizer.Penalty(Param("bias_ih_l0"));
        }
    }
}
