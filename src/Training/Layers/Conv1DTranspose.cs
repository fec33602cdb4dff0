using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras Conv1DTranspose on (steps, channels) inputs.</summary>
[KerasName("Conv1DTranspose", "Convolution1DTranspose")]
public sealed record Conv1DTranspose : BaseConvTranspose
{
    public Conv1DTranspose() : base(1) { }
}
