using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras Adam: <c>lr = 1e-3, β1 = 0.9, β2 = 0.999, ε = 1e-7</c> in the "epsilon-hat" form
/// <c>w −= lr·√(1−β2ᵗ)/(1−β1ᵗ) · m/(√v + ε)</c> (ε added to the uncorrected √v, unlike torch's Adam).</summary>
public record Adam : AdaptiveMomentConfig
{
    public bool Amsgrad { get; init; }

    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new AdamOptimizer(this, parameters);
}

public sealed class AdamOptimizer : Optimizer
{
    private readonly Adam _config;
    private readonly Slot _m, _v;
    private readonly Slot? _vHat;

    public AdamOptimizer(Adam config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        _m = AddSlot("momentum");
        _v = AddSlot("velocity");
        if (config.Amsgrad) _vHat = AddSlot("velocity_hat");
    }

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        var (β1, β2) = (_config.Beta1, _config.Beta2);
        var alpha = learningRate * Math.Sqrt(1 - Math.Pow(β2, step)) / (1 - Math.Pow(β1, step));
        var m = _m[index];
        var v = _v[index];
        m.mul_(β1).add_(grad, 1 - β1);
        v.mul_(β2).addcmul_(grad, grad, 1 - β2);
        if (_vHat is not null)
        {
            _vHat[index].copy_(maximum(_vHat[index], v));
            v = _vHat[index];
        }
        using var denominator = v.sqrt().add_(_config.Epsilon);
        parameter.addcdiv_(m, denominator, -alpha);
    }
}
