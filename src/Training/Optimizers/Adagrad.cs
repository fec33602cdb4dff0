using TorchSharp.Modules;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras Adagrad: <c>lr = 1e-3</c>, accumulators start at <c>initial_accumulator_value = 0.1</c>,
/// <c>acc += g²; w −= lr·g/√(acc + ε)</c> with <c>ε = 1e-7</c>.</summary>
public sealed record Adagrad : OptimizerConfig
{
    [Range(0)] public double InitialAccumulatorValue { get; init; } = 0.1;
    [Range(0)] public double Epsilon { get; init; } = 1e-7;

    protected override double DefaultLearningRate => 0.001;

    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new AdagradOptimizer(this, parameters);
}

public sealed class AdagradOptimizer : Optimizer
{
    private readonly Adagrad _config;
    private readonly Slot _accumulators;

    public AdagradOptimizer(Adagrad config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        _accumulators = AddSlot("accumulator");
        foreach (var accumulator in _accumulators.PerParameter) accumulator.fill_(config.InitialAccumulatorValue);
    }

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        var acc = _accumulators[index];
        acc.add_(grad.mul(grad));
        parameter.sub_(grad.mul(learningRate).div_(acc.add(_config.Epsilon).sqrt_()));
    }
}
