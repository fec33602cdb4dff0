using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras MaxPooling2D on (H, W, C): the max over each window.</summary>
[KerasName("MaxPooling2D", "MaxPool2D")]
public sealed record MaxPooling2D : BasePooling
{
    public MaxPooling2D() : base(2, max: true) { }
}
