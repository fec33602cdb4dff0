using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras SeparableConv1D on (steps, channels) inputs.</summary>
[KerasName("SeparableConv1D", "SeparableConvolution1D")]
public sealed record SeparableConv1D : BaseSeparableConv
{
    public SeparableConv1D() : base(1) { }
}
