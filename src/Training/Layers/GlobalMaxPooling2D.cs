using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalMaxPooling2D: the maximum over the spatial axes of (H, W, C), giving (channels,), or with
/// <c>keepdims</c> (1, 1, channels).</summary>
[KerasName("GlobalMaxPooling2D", "GlobalMaxPool2D")]
public sealed record GlobalMaxPooling2D : GlobalPooling
{
    protected override int SpatialRank => 2;

    protected override Tensor Reduce(Tensor input, long[] dims, bool keepdim, ForwardContext context) => input.amax(dims, keepdim);
}
