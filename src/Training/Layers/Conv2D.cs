using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv2D on (H, W, C) inputs.</summary>
[KerasName("Conv2D", "Convolution2D")]
public sealed record Conv2D : BaseConv
{
    public Conv2D() : base(2) { }
}
