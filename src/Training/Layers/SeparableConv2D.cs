using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras SeparableConv2D on (H, W, C) inputs.</summary>
[KerasName("SeparableConv2D", "SeparableConvolution2D")]
public sealed record SeparableConv2D : BaseSeparableConv
{
    public SeparableConv2D() : base(2) { }
}
