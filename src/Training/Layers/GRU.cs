using TrainingService.Training.Activations;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras GRU. Weights are drawn in Keras's layout and order — kernel (in, 3u), recurrent kernel (u, 3u), bias (2, 3u)
/// with <c>reset_after</c> (input bias, recurrent bias) or (3u) without — with gates [z|r|h], then stored in PyTorch's
/// [r|z|n] rows. With <c>reset_after</c> (Keras 2.x tf.keras and Keras 3's default) Keras's step is exactly PyTorch's
/// GRU, so libtorch's fused kernel runs (tanh/sigmoid, no mask, no recurrent dropout in training). Without it
/// (standalone Keras ≤ 2.3) the reset gate multiplies h before the recurrent product, which only the step loop computes;
/// the single bias then lives in <c>bias_ih</c> and <c>bias_hh</c> stays zero and frozen.
/// </summary>
public sealed record GRU : RecurrentConfig
{
    [ActivationName] public string RecurrentActivation { get; init; } = "sigmoid";
    public bool ResetAfter { get; init; } = true;

    protected override int StateCount => 1;

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        (3L * Units * (inputs[0].Last + Units) + (UseBias ? (ResetAfter ? 6L : 3L) * Units : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, inputs[0].Last, context);

    private sealed class Module : RecurrentModule
    {
        private readonly TorchSharp.Modules.GRU gru;
        private readonly GRU _c;
        private readonly Func<Tensor, Tensor> _act, _recAct;

        public Module(GRU c, int inputDim, BuildContext context) : base(c)
        {
            _c = c;
            _act = ActivationRegistry.Get(c.Activation);
            _recAct = ActivationRegistry.Get(c.RecurrentActivation);
            var u = c.Units;
            gru = nn.GRU(inputDim, u, bias: c.UseBias, batchFirst: true);
            using (no_grad())
            {
                using var kernel = c.KernelInitializer.Create([inputDim, 3 * u], context.Rng);
                using var recurrent = c.RecurrentInitializer.Create([u, 3 * u], context.Rng);
                Param("weight_ih_l0").copy_(SwapFirstTwoGates(kernel.t(), u));
                Param("weight_hh_l0").copy_(SwapFirstTwoGates(recurrent.t(), u));
                if (c.UseBias)
                {
                    using var bias = c.BiasInitializer.Create(c.ResetAfter ? [2, 3 * u] : [3 * u], context.Rng);
                    if (c.ResetAfter)
                    {
                        Param("bias_ih_l0").copy_(SwapFirstTwoGates(bias[0], u));
                        Param("bias_hh_l0").copy_(SwapFirstTwoGates(bias[1], u));
                    }
                    else
                    {
                        Param("bias_ih_l0").copy_(SwapFirstTwoGates(bias, u));
                        Param("bias_hh_l0").zero_();
                        Param("bias_hh_l0").requires_grad_(false);
                    }
                }
            }
            RegisterComponents();
        }

        private TorchSharp.Modules.Parameter Param(string name) => gru.get_parameter(name)!;

        protected override int StateCount => 1;

        protected override bool FusedActivations => _c.ResetAfter && _c.Activation == "tanh" && _c.RecurrentActivation == "sigmoid";

        protected override (Tensor Sequence, Tensor[] States) Fused(Tensor x)
        {
            var (output, hn) = gru.forward(x);
            return (output, [hn[0]]);
        }

        protected override Tensor Project(Tensor x) =>
            _c.UseBias ? nn.functional.linear(x, Param("weight_ih_l0"), Param("bias_ih_l0")) : nn.functional.linear(x, Param("weight_ih_l0"));

        protected override Tensor[] Step(Tensor projected, Tensor[] states, Tensor? recurrentMask)
        {
            // Recurrent dropout acts on h_{t-1} in the recurrent products only, the update mixes the undropped state
            // (Keras's implementation 1, and tf.keras).
            var h = recurrentMask is null ? states[0] : states[0] * recurrentMask;
            var u = (long)_c.Units;
            var x = projected.chunk(3, 1);   // [r|z|n]
            var whh = Param("weight_hh_l0");
            Tensor r, z, n;
            if (_c.ResetAfter)
            {
                var inner = _c.UseBias ? nn.functional.linear(h, whh, Param("bias_hh_l0")) : nn.functional.linear(h, whh);
                var hr = inner.chunk(3, 1);
                r = _recAct(x[0] + hr[0]);
                z = _recAct(x[1] + hr[1]);
                n = _act(x[2] + r * hr[2]);
            }
            else
            {
                var rz = nn.functional.linear(h, whh.narrow(0, 0, 2 * u)).chunk(2, 1);
                r = _recAct(x[0] + rz[0]);
                z = _recAct(x[1] + rz[1]);
                n = _act(x[2] + nn.functional.linear(r * h, whh.narrow(0, 2 * u, u)));
            }
            return [z * states[0] + (1 - z) * n];
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_c.KernelRegularizer is not null) yield return _c.KernelRegularizer.Penalty(Param("weight_ih_l0"));
            if (_c.RecurrentRegularizer is not null) yield return _c.RecurrentRegularizer.Penalty(Param("weight_hh_l0"));
            if (_c.BiasRegularizer is not null && _c.UseBias)
            {
                yield return _c.BiasRegularizer.Penalty(Param("bias_ih_l0"));
                if (_c.ResetAfter) yield return _c.BiasRegularizer.Penalty(Param("bias_hh_l0"));
            }
        }
    }
}
