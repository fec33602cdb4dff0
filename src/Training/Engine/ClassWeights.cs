using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>Keras's class_weight_to_sample_weights: each example weighs its class's weight (1.0 for classes not
/// listed). The class is the label itself for 1-D or (N, 1) targets (rounded half to even), the argmax for one-hot.</summary>
public static class ClassWeights
{
    public static Tensor ToSampleWeights(Tensor yTrue, IReadOnlyDictionary<int, double> classWeight)
    {
        using var scope = NewDisposeScope();
        var y = yTrue.detach();
        if (y.dim() > 1) y = y.shape[^1] != 1 ? y.argmax(-1) : y.squeeze(-1);
        var classes = y.is_floating_point() ? y.round().to_type(ScalarType.Int64) : y.to_type(ScalarType.Int64);
        var size = Math.Max(classWeight.Count == 0 ? 0 : classWeight.Keys.Max() + 1, (int)classes.max().item<long>() + 1);
        var table = Enumerable.Repeat(1.0f, size).ToArray();
        foreach (var (c, w) in classWeight) if (c >= 0) table[c] = (float)w;
        return tensor(table, device: yTrue.device).index_select(0, classes.flatten()).reshape(classes.shape).MoveToOuterDisposeScope();
    }
}
