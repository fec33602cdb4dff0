using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Losses;

/// <summary>Keras huber: <c>mean(½e² if |e| ≤ δ else δ|e| − ½δ², axis=−1)</c> with <c>e = ŷ − y</c>, <c>delta = 1.0</c>.</summary>
public sealed record Huber : Loss
{
    [Range(0, MinExclusive = true)] public double Delta { get; init; } = 1.0;

    public override TargetKind Targets => TargetKind.LikeOutput;

    public override Tensor PerExample(Tensor yTrue, Tensor yPred, Tensor? logits)
    {
        yTrue = Align(yTrue, yPred);
        var error = yPred - yTrue;
        var abs = error.abs();
        var quadratic = error.square() * 0.5;
        var linear = abs * Delta - 0.5 * Delta * Delta;
        return MeanRest(where(abs <= Delta, quadratic, linear).mean([-1]));
    }
}
