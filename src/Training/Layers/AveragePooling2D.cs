using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras AveragePooling2D on (H, W, C): the average over each window; "same" padding is left out of each
/// average, as in Keras.</summary>
[KerasName("AveragePooling2D", "AvgPool2D")]
public sealed record AveragePooling2D : BasePooling
{
    public AveragePooling2D() : base(2, max: false) { }
}
