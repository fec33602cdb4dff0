using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras 3 Nadam (Dozat's schedule with decay 0.96): <c>lr = 1e-3, β1 = 0.9, β2 = 0.999, ε = 1e-7</c>;
/// <c>μₜ = β1(1 − ½·0.96ᵗ)</c>, a running product Πμ kept across steps, and
/// <c>w −= lr·(μₜ₊₁m/(1−Πμ·μₜ₊₁) + (1−μₜ)g/(1−Πμ)) / (√(v/(1−β2ᵗ)) + ε)</c>.</summary>
public sealed record Nadam : AdaptiveMomentConfig
{
    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new NadamOptimizer(this, parameters);
}

public sealed class NadamOptimizer : Optimizer
{
    private readonly Nadam _config;
    private readonly Slot _m, _v;
    // Keras keeps Πμ as a variable; a float64 scalar tensor so checkpoints carry it.
    private readonly Tensor _uProduct = ones(1, dtype: float64).DetachFromDisposeScope();

    public NadamOptimizer(Nadam config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        _m = AddSlot("momentum");
        _v = AddSlot("velocity");
    }

    private double Mu(long step) => _config.Beta1 * (1 - 0.5 * Math.Pow(0.96, step));

    // Read once per step (not once per parameter): a host read is a native call.
    private double _uProductValue = 1;

    protected override void BeginStep(long step) => _uProductValue = _uProduct.mul_(Mu(step)).item<double>();

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        var (β1, β2) = (_config.Beta1, _config.Beta2);
        var uT = Mu(step);
        var uT1 = Mu(step + 1);
        var uProduct = _uProductValue;
        var uProduct1 = uProduct * uT1;
        var m = _m[index];
        var v = _v[index];
        m.add_(grad.sub(m).mul_(1 - β1));
        v.add_(grad.mul(grad).sub_(v).mul_(1 - β2));
        var mHat = m.mul(uT1 / (1 - uProduct1)).add_(grad.mul((1 - uT) / (1 - uProduct)));
        var vHat = v.div(1 - Math.Pow(β2, step));
        parameter.sub_(mHat.mul_(learningRate).div_(vHat.sqrt_().add_(_config.Epsilon)));
    }

    protected override IEnumerable<(string Name, Tensor Value)> ExtraState() => [("nadam/u_product", _uProduct)];
}
