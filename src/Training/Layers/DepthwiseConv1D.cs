using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras DepthwiseConv1D on (steps, channels) inputs.</summary>
[KerasName("DepthwiseConv1D")]
public sealed record DepthwiseConv1D : BaseDepthwiseConv
{
    public DepthwiseConv1D() : base(1) { }
}
