using TrainingService.Training.Engine;

namespace TrainingService.Training.Losses;

/// <summary>Target-versus-output checks shared by the losses.</summary>
internal static class LossChecks
{
    public static string Shape(int[] s) => "(" + string.Join(", ", s) + (s.Length == 1 ? ",)" : ")");

    /// <summary>Targets given as values: the same shape as the output (a trailing 1 may be left out), or integer
    /// class labels when the output is one unit wide per class (the engine one-hot encodes them).</summary>
    public static IEnumerable<string> LikeOutput(Loss loss, int[] output, TargetSignature target)
    {
        var name = LossRegistry.NameOf(loss);
        if (SameShape(output, target.Shape)) yield break;
        if (target.IsInteger && IsLabels(output, target.Shape))
        {
            if (output[^1] == 1) yield break;
            if (loss is CategoricalCrossentropy or CategoricalHinge or KLDivergence or Poisson)
            {
                if (target.Classes is { } c && c > output[^1])
                    yield return $"{name}: targets have {c} classes but the output has {output[^1]} units";
                yield break;
            }
            yield return $"{name} expects targets shaped like the output {Shape(output)}, got integer class labels; " +
                $"for one label per example use sparse_categorical_crossentropy (softmax output) or an output of 1 unit";
            yield break;
        }
        yield return $"{name} expects targets shaped like the output {Shape(output)}, got {Shape(target.Shape)}";
    }

    /// <summary>Shapes equal, allowing a trailing 1 on either side (Keras squeezes or expands it).</summary>
    public static bool SameShape(int[] a, int[] b) =>
        a.SequenceEqual(b)
        || a.Length == b.Length + 1 && a[^1] == 1 && a[..^1].SequenceEqual(b)
        || b.Length == a.Length + 1 && b[^1] == 1 && b[..^1].SequenceEqual(a);

    /// <summary>One label per position: target rank one less than the output, or the same rank ending in 1.</summary>
    public static bool IsLabels(int[] output, int[] target) =>
        target.Length == output.Length - 1 && target.SequenceEqual(output[..^1])
        || target.Length == output.Length && target[^1] == 1 && target[..^1].SequenceEqual(output[..^1]);
}
