using TrainingService.Training.Data;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Support;

/// <summary>Casts a batch to float32 and multiplies it by a factor (1/255 for pixels).</summary>
public sealed class Rescale(double factor) : IBatchTransform
{
    public Tensor[] Apply(Tensor[] rawInputs, bool training, Generator rng) =>
        rawInputs.Select(t => t.to(ScalarType.Float32) * factor).ToArray();
}
