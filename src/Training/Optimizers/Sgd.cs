using TorchSharp.Modules;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras SGD: <c>lr = 0.01</c>; with momentum Keras's velocity form <c>m = μ·m − lr·g; w += m</c>
/// (Nesterov: <c>w += μ·m − lr·g</c>), which differs from torch's once the learning rate changes.</summary>
[KerasName("SGD")]
public sealed record Sgd : OptimizerConfig
{
    [Range(0, 1)] public double Momentum { get; init; }
    public bool Nesterov { get; init; }

    protected override double DefaultLearningRate => 0.01;

    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new SgdOptimizer(this, parameters);
}

public sealed class SgdOptimizer : Optimizer
{
    private readonly Sgd _config;
    private readonly Slot? _momentums;

    public SgdOptimizer(Sgd config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        if (config.Momentum != 0) _momentums = AddSlot("momentum");
    }

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        if (_momentums is null)
        {
            parameter.sub_(grad.mul(learningRate));
            return;
        }
        var m = _momentums[index];
        var μ = _config.Momentum;
        m.mul_(μ).sub_(grad.mul(learningRate));
        if (_config.Nesterov) parameter.add_(m.mul(μ).sub_(grad.mul(learningRate)));
        else parameter.add_(m);
    }
}
