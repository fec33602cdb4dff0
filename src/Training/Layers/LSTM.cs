using TrainingService.Training.Activations;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// Keras LSTM. Weights are drawn in Keras's layout (kernel (in, 4u) glorot, recurrent (u, 4u) orthogonal, gates
/// [i|f|c|o], forget bias 1 with <c>unit_forget_bias</c>) and stored in PyTorch's, whose gate order is the same.
/// Keras has one bias: it lives in <c>bias_ih</c>, and <c>bias_hh</c> stays zero and frozen. libtorch's fused kernel
/// runs whenever the config allows (tanh/sigmoid, no recurrent dropout, no mask); otherwise a step loop does.
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

internal sealed class LstmModule : LayerModule
{
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly LSTM _c;
    private readonly Func<Tensor, Tensor> _act, _recAct;
    private readonly bool _fusable;

    public LstmModule(LSTM c, int inputDim, BuildContext context) : base(c.Name)
    {
        _c = c;
        _act = ActivationRegistry.Get(c.Activation);
        _recAct = ActivationRegistry.Get(c.RecurrentActivation);
        _fusable = c.Activation == "tanh" && c.RecurrentActivation == "sigmoid";
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

    public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
    {
        var x = inputs[0];
        if (_c.GoBackwards) x = x.flip(1);
        var inputMask = context.InputMask;
        var mask = inputMask;
        if (mask is not null && _c.GoBackwards) mask = mask.flip(1);
        if (_c.Dropout > 0 && context.Training)
            x = Dropout.Apply(x, _c.Dropout, context, [x.shape[0], 1, x.shape[2]]);
        Tensor sequence, h, cState;
        if (_fusable && mask is null && !(_c.RecurrentDropout > 0 && context.Training))
        {
            var (output, hn, cn) = lstm.forward(x);
            (sequence, h, cState) = (output, hn[0], cn[0]);
        }
        else (sequence, h, cState) = Loop(x, mask, context);
        context.OutputMask = _c.ReturnSequences ? inputMask : null;
        var first = _c.ReturnSequences ? sequence : h;
        return _c.ReturnState ? [first, h, cState] : [first];
    }

    private (Tensor Sequence, Tensor H, Tensor C) Loop(Tensor x, Tensor? mask, ForwardContext context)
    {
        var (batch, steps, u) = (x.shape[0], x.shape[1], (long)_c.Units);
        var wih = Param("weight_ih_l0");
        var whh = Param("weight_hh_l0");
        var projected = _c.UseBias ? nn.functional.linear(x, wih, Param("bias_ih_l0")) : nn.functional.linear(x, wih);
        var h = zeros(batch, u);
        var c = zeros(batch, u);
        Tensor? recMask = null;
        if (_c.RecurrentDropout > 0 && context.Training)
            recMask = empty(batch, u).bernoulli_(1 - _c.RecurrentDropout, context.Rng) / (1 - _c.RecurrentDropout);
        var outputs = new List<Tensor>((int)steps);
        for (var t = 0; t < steps; t++)
        {
            var hIn = recMask is null ? h : h * recMask;
            var z = projected.select(1, t) + nn.functional.linear(hIn, whh);
            var gates = z.chunk(4, 1);
            var i = _recAct(gates[0]);
            var f = _recAct(gates[1]);
            var cNew = f * c + i * _act(gates[2]);
            var hNew = _recAct(gates[3]) * _act(cNew);
            if (mask is not null)
            {
                var m = mask.select(1, t).unsqueeze(1);
                h = where(m, hNew, h);
                c = where(m, cNew, c);
                // Keras: a masked step repeats the previous output, or gives zeros with zero_output_for_mask.
                outputs.Add(_c.ZeroOutputForMask == true ? where(m, hNew, zeros_like(hNew)) : h);
            }
            else
            {
                (h, c) = (hNew, cNew);
                outputs.Add(hNew);
            }
        }
        return (_c.ReturnSequences ? stack(outputs, 1) : h, h, c);
    }

    public override IEnumerable<Tensor> Penalties()
    {
        if (_c.KernelRegularizer is not null) yield return _c.KernelRegularizer.Penalty(Param("weight_ih_l0"));
        if (_c.RecurrentRegularizer is not null) yield return _c.RecurrentRegularizer.Penalty(Param("weight_hh_l0"));
        if (_c.BiasRegularizer is not null && _c.UseBias) yield return _c.BiasRegularizer.Penalty(Param("bias_ih_l0"));
    }
}
