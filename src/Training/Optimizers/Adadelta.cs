using TorchSharp.Modules;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>Keras Adadelta: <c>lr = 1e-3, rho = 0.95, ε = 1e-7</c>;
/// <c>Eg = ρEg + (1−ρ)g²; Δ = −√(Edx + ε)/√(Eg + ε)·g; Edx = ρEdx + (1−ρ)Δ²; w += lr·Δ</c>.</summary>
public sealed record Adadelta : OptimizerConfig
{
    [Range(0, 1)] public double Rho { get; init; } = 0.95;
    [Range(0)] public double Epsilon { get; init; } = 1e-7;

    protected override double DefaultLearningRate => 0.001;

    public override Optimizer Create(IReadOnlyList<(string Name, Parameter Parameter)> parameters) => new AdadeltaOptimizer(this, parameters);
}

public sealed class AdadeltaOptimizer : Optimizer
{
    private readonly Adadelta _config;
    private readonly Slot _accumulatedGrad, _accumulatedDelta;

    public AdadeltaOptimizer(Adadelta config, IReadOnlyList<(string Name, Parameter Parameter)> parameters) : base(config, parameters)
    {
        _config = config;
        _accumulatedGrad = AddSlot("accumulated_grad");
        _accumulatedDelta = AddSlot("accumulated_delta_var");
    }

    protected override void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step)
    {
        var (ρ, ε) = (_config.Rho, _config.Epsilon);
        var eg = _accumulatedGrad[index];
        var edx = _accumulatedDelta[index];
        eg.mul_(ρ).add_(grad.mul(grad), 1 - ρ);
        var delta = edx.add(ε).sqrt_().mul_(grad).div_(eg.add(ε).sqrt_()).neg_();
        edx.mul_(ρ).add_(delta.mul(delta), 1 - ρ);
        parameter.add_(delta.mul_(learningRate));
    }
}
