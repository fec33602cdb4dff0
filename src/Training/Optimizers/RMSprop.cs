using TorchSharp.Modules;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras RMSprop: <c>lr = 1e-3, rho = 0.9, ε = 1e-7</c> with ε inside the square root:
/// <c>v = ρv + (1−ρ)g²; w −= lr·g/√(v + ε)</c> (centered subtracts the mean gradient squared; momentum accumulates the increment).</summary>
public sealed record RMSprop : OptimizerConfig
{
    [Range(0, 1)] public double Rho { get; init; } = 0.9;
    [Range(0)] public double Momentum { get; init; }
    [Range(0)] public double Epsilon { get; init; } = 1e-7;
    public bool Centered { get; init; }

    protected override double DefaultLearningRate => 0.001;

    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new RMSpropOptimizer(this, parameters);
}

public sealed class RMSpropOptimizer : Optimizer
{
    private readonly RMSprop _config;
    private readonly Slot _velocities;
    private readonly Slot? _momentums, _averageGradients;

    public RMSpropOptimizer(RMSprop config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        _velocities = AddSlot("velocity");
        if (config.Momentum > 0) _momentums = AddSlot("momentum");
        if (config.Centered) _averageGradients = AddSlot("average_gradient");
    }

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        var ρ = _config.Rho;
        var v = _velocities[index];
        v.mul_(ρ).addcmul_(grad, grad, 1 - ρ);
        var denominator = v.add(_config.Epsilon);
        if (_averageGradients is not null)
        {
            var a = _averageGradients[index];
            a.mul_(ρ).add_(grad, 1 - ρ);
            denominator.sub_(a.mul(a));
        }
        var increment = grad.mul(learningRate).div_(denominator.sqrt_());
        if (_momentums is not null)
        {
            var m = _momentums[index];
            m.mul_(_config.Momentum).add_(increment);
            parameter.sub_(m);
        }
        else parameter.sub_(increment);
    }
}
