using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv2DTranspose on (H, W, C) inputs.</summary>
[KerasName("Conv2DTranspose", "Convolution2DTranspose")]
public sealed record Conv2DTranspose : BaseConvTranspose
{
    public Conv2DTranspose() : base(2) { }
}
