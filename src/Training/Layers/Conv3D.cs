using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv3D on (D, H, W, C) inputs (volumes, video clips).</summary>
[KerasName("Conv3D", "Convolution3D")]
public sealed record Conv3D : BaseConv
{
    public Conv3D() : base(3) { }
}
