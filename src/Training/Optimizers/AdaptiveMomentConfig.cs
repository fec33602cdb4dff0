using TrainingService.Training.Specs;

namespace TrainingService.Training.Optimizers;

/// <summary>The keys Keras's adaptive-moment optimizers (Adam, Adamax, Nadam) share, with Keras's defaults:
/// <c>lr = 1e-3, β1 = 0.9, β2 = 0.999, ε = 1e-7</c>.</summary>
public abstract record AdaptiveMomentConfig : OptimizerConfig
{
    [Key("beta_1"), Range(0, 1, MaxExclusive = true)] public double Beta1 { get; init; } = 0.9;
    [Key("beta_2"), Range(0, 1, MaxExclusive = true)] public double Beta2 { get; init; } = 0.999;
    [Range(0)] public double Epsilon { get; init; } = 1e-7;

    protected override double DefaultLearningRate => 0.001;
}
