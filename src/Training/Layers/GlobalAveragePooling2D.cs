using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalAveragePooling2D: the mean over the spatial axes of (H, W, C), giving (channels,), or with
/// <c>keepdims</c> (1, 1, channels).</summary>
[KerasName("GlobalAveragePooling2D", "GlobalAvgPool2D")]
public sealed record GlobalAveragePooling2D : GlobalPooling
{
    protected override int SpatialRank => 2;

    protected override Tensor Reduce(Tensor input, long[] dims, bool keepdim, ForwardContext context) => input.mean(dims, keepdim);
}
