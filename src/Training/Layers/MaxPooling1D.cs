using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras MaxPooling1D on (steps, channels): the max over each window.</summary>
[KerasName("MaxPooling1D", "MaxPool1D")]
public sealed record MaxPooling1D : BasePooling
{
    public MaxPooling1D() : base(1, max: true) { }
}
