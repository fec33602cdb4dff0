using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras Adamax: <c>lr = 1e-3, β1 = 0.9, β2 = 0.999, ε = 1e-7</c>;
/// <c>m += (g − m)(1−β1); u = max(β2·u, |g|); w −= lr·m / ((1−β1ᵗ)(u + ε))</c>.</summary>
public sealed record Adamax : AdaptiveMomentConfig
{
    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new AdamaxOptimizer(this, parameters);
}

public sealed class AdamaxOptimizer : Optimizer
{
    private readonly Adamax _config;
    private readonly Slot _m, _u;

    public AdamaxOptimizer(Adamax config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        _m = AddSlot("momentum");
        _u = AddSlot("norm");
    }

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        var β1 = _config.Beta1;
        var m = _m[index];
        var u = _u[index];
        m.add_(grad.sub(m).mul_(1 - β1));
        u.copy_(maximum(u.mul(_config.Beta2), grad.abs()));
        parameter.sub_(m.mul(learningRate).div_(u.add(_config.Epsilon).mul_(1 - Math.Pow(β1, step))));
    }
}
