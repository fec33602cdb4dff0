using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras GlobalAveragePooling1D: the mean over the steps of (steps, channels), giving (channels,), or with
/// <c>keepdims</c> (1, channels). With a mask, only the real steps are averaged, as in Keras.</summary>
[KerasName("GlobalAveragePooling1D", "GlobalAvgPool1D")]
public sealed record GlobalAveragePooling1D : GlobalPooling
{
    protected override int SpatialRank => 1;

    protected override Tensor Reduce(Tensor input, long[] dims, bool keepdim, ForwardContext context)
    {
        if (context.InputMask is not { } mask) return input.mean(dims, keepdim);
        var m = mask.unsqueeze(-1).to(input.dtype);
        return (input * m).sum(dims, keepdim) / m.sum(dims, keepdim);
    }
}
