using TrainingService.Training.Activations;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras LSTM. Weights are drawn in Keras's layout (kernel (in, 4u) glorot, recurrent (u, 4u) orthogonal, gates
/// [i|f|c|o], forget bias 1 with <c>unit_forget_bias</c>) and stored in PyTorch's, whose gate order is the same.
/// Keras has one bias: it lives in <c>bias_ih</c>, and <c>bias_hh</c> stays zero and frozen. libtorch's fused kernel
/// runs whenever the config allows (tanh/sigmoid, no recurrent dropout, no mask) and computes this shape exactly on
/// this processor (<see cref="FusedLstmCheck"/>); otherwise a step loop does.
/// </summary>
public sealed record LSTM : RecurrentConfig
{
    [ActivationName] public string RecurrentActivation { get; init; } = "sigmoid";
    public bool UnitForgetBias { get; init; } = true;

    protected override int StateCount => 2;

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        (4L * Units * (inputs[0].Last + Units) + (UseBias ? 4L * Units : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new LstmModule(this, inputs[0].Last, context);
}

internal sealed class LstmModule : RecurrentModule
{
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly LSTM _c;
    private readonly Func<Tensor, Tensor> _act, _recAct;
    private readonly bool _fusedExact;

    public LstmModule(LSTM c, int inputDim, BuildContext context) : base(c)
    {
        _c = c;
        _act = ActivationRegistry.Get(c.Activation);
        _recAct = ActivationRegistry.Get(c.RecurrentActivation);
        _fusedExact = FusedLstmCheck.IsExact(inputDim, c.Units, c.UseBias);
        lstm = nn.LSTM(inputDim, c.Units, bias: c.UseBias, batchFirst: true);
        using (no_grad())
        {
            var u = c.Units;
            using var kernel = c.KernelInitializer.Create([inputDim, 4 * u], context.Rng);
            using var recurrent = c.RecurrentInitializer.Create([u, 4 * u], context.Rng);
            Param("weight_ih_l0").copy_(kernel.t());
            Param("weight_hh_l0").copy_(recurrent.t());
            if (c.UseBias)
            {
                using var b = c.UnitForgetBias
                    ? cat([c.BiasInitializer.Create([u], context.Rng), ones(u), c.BiasInitializer.Create([2 * u], context.Rng)])
                    : c.BiasInitializer.Create([4 * u], context.Rng);
                Param("bias_ih_l0").copy_(b);
                Param("bias_hh_l0").zero_();
                Param("bias_hh_l0").requires_grad_(false);
            }
        }
        RegisterComponents();
    }

    private TorchSharp.Modules.Parameter Param(string name) => lstm.get_parameter(name)!;

    protected override int StateCount => 2;

    protected override bool FusedActivations => _c.Activation == "tanh" && _c.RecurrentActivation == "sigmoid" && _fusedExact;

    protected override (Tensor Sequence, Tensor[] States) Fused(Tensor x)
    {
        // libtorch's CPU LSTM (TorchSharp 0.107) computes wrong values under no_grad — its inference-only kernel;
        // checked against a hand-written step, off by up to 0.2 — so it always runs the training kernel, whose
        // results match Keras (and ONNX Runtime) within 1e-6. Predict detaches the outputs.
        using var grad = enable_grad();
        var (output, hn, cn) = lstm.forward(x);
        return (output, [hn[0], cn[0]]);
    }

    protected override Tensor Project(Tensor x) =>
        _c.UseBias ? nn.functional.linear(x, Param("weight_ih_l0"), Param("bias_ih_l0")) : nn.functional.linear(x, Param("weight_ih_l0"));

    protected override Tensor[] Step(Tensor projected, Tensor[] states, Tensor? recurrentMask)
    {
        var h = recurrentMask is null ? states[0] : states[0] * recurrentMask;
        var gates = (projected + nn.functional.linear(h, Param("weight_hh_l0"))).chunk(4, 1);   // [i|f|c|o]
        var c = _recAct(gates[1]) * states[1] + _recAct(gates[0]) * _act(gates[2]);
        return [_recAct(gates[3]) * _act(c), c];
    }

    public override IEnumerable<Tensor> Penalties()
    {
        if (_c.KernelRegularizer is not null) yield return _c.KernelRegularizer.Penalty(Param("weight_ih_l0"));
        if (_c.RecurrentRegularizer is not null) yield return _c.RecurrentRegularizer.Penalty(Param("weight_hh_l0"));
        if (_c.BiasRegularizer is not null && _c.UseBias) yield return _c.BiasRegularizer.Penalty(Param("bias_ih_l0"));
    }
}
