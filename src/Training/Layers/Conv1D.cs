using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv1D on (steps, channels) inputs; <c>padding</c> "causal" pads only the start, so step t sees
/// steps ≤ t.</summary>
[KerasName("Conv1D", "Convolution1D")]
public sealed record Conv1D : BaseConv
{
    public Conv1D() : base(1) { }

    [OneOf("valid", "same", "causal")] public override string Padding { get; init; } = "valid";
}
