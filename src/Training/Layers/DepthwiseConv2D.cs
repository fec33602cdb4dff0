using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras DepthwiseConv2D on (H, W, C) inputs (MobileNet's building block).</summary>
[KerasName("DepthwiseConv2D")]
public sealed record DepthwiseConv2D : BaseDepthwiseConv
{
    public DepthwiseConv2D() : base(2) { }
}
