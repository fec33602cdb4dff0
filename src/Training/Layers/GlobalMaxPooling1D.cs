using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalMaxPooling1D: the maximum over the steps of (steps, channels), giving (channels,), or with
/// <c>keepdims</c> (1, channels).</summary>
[KerasName("GlobalMaxPooling1D", "GlobalMaxPool1D")]
public sealed record GlobalMaxPooling1D : GlobalPooling
{
    protected override int SpatialRank => 1;

    protected override Tensor Reduce(Tensor input, long[] dims, bool keepdim, ForwardContext context) => input.amax(dims, keepdim);
}
