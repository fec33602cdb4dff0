namespace TrainingService.Training.Optimizers;

/// <summary>Keras AdamW: Adam plus decoupled weight decay <c>w *= 1 − weight_decay·lr</c> before each update,
/// <c>weight_decay = 0.004</c> by default (torch's AdamW defaults differ).</summary>
public sealed record AdamW : Adam
{
    public AdamW() => WeightDecay = 0.004;
}
