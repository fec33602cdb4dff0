using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras AveragePooling1D on (steps, channels): the average over each window; "same" padding is left out of
/// each average, as in Keras.</summary>
[KerasName("AveragePooling1D", "AvgPool1D")]
public sealed record AveragePooling1D : BasePooling
{
    public AveragePooling1D() : base(1, max: false) { }
}
