using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>What building a layer needs: the generator that draws initial weights (seeded per run, so a model
/// built twice with the same seed has the same weights).</summary>
public sealed class BuildContext(Generator rng)
{
    public Generator Rng { get; } = rng;
}
