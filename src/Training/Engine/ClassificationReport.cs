using TrainingService.Training.Data;
using TrainingService.Training.Metrics;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>
/// How a classifier did on a held-out set, class by class: the confusion matrix (rows = true class, columns =
/// predicted class), precision, recall and F1 per class, and a few misclassified examples with their raw inputs
/// (so an image can be drawn from its stored pixels). Predicted class = argmax of the output, or output &gt; 0.5
/// for a single sigmoid unit, as Keras's accuracy metrics count it.
/// </summary>
public sealed record ClassificationReport(
    IReadOnlyList<string> Classes,
    long[][] ConfusionMatrix,
    IReadOnlyList<ClassScores> PerClass,
    long Examples,
    double Accuracy,
    IReadOnlyList<MisclassifiedExample> Misclassified)
{
    /// <summary>The report for the first output of <paramref name="session"/> on <paramref name="data"/>, or null
    /// when that output is not a classifier over <paramref name="classNames"/>.</summary>
    public static ClassificationReport? Compute(ModelSession session, ArrayDataset data, IReadOnlyList<string>? classNames, int maxMisclassified)
    {
        if (classNames is not { Count: >= 2 } || data.Targets.Count == 0 || data.Count == 0) return null;
        var outputs = session.Predict(data);
        try
        {
            var output = outputs[0];
            var width = output.shape[^1];
            if (output.dim() != 2 || (width != classNames.Count && !(width == 1 && classNames.Count == 2))) return null;
            using var scope = NewDisposeScope();
            var target = data.Targets[0];
            var truth = MetricTargets.Indices(target, output).to_type(ScalarType.Int64);
            var predicted = width == 1 ? output.squeeze(-1).gt(0.5).to_type(ScalarType.Int64) : output.argmax(-1);
            var confidence = width == 1
                ? where(predicted.eq(1), output.squeeze(-1), 1 - output.squeeze(-1))
                : output.max(-1).values;
            return Build(classNames, truth.data<long>().ToArray(), predicted.data<long>().ToArray(),
                confidence.to_type(ScalarType.Float32).data<float>().ToArray(), data.Inputs[0], maxMisclassified);
        }
        finally
        {
            foreach (var t in outputs) t.Dispose();
        }
    }

    private static ClassificationReport Build(IReadOnlyList<string> classes, long[] truth, long[] predicted, float[] confidence, Tensor inputs, int maxMisclassified)
    {
        var k = classes.Count;
        var matrix = Enumerable.Range(0, k).Select(_ => new long[k]).ToArray();
        var wrong = new List<MisclassifiedExample>();
        long correct = 0;
        for (var i = 0; i < truth.Length; i++)
        {
            matrix[truth[i]][predicted[i]]++;
            if (truth[i] == predicted[i]) correct++;
            else if (wrong.Count < maxMisclassified)
                wrong.Add(new MisclassifiedExample(i, (int)truth[i], (int)predicted[i], Math.Round(confidence[i], 6), RawInput(inputs, i)));
        }
        var perClass = Enumerable.Range(0, k).Select(c =>
        {
            var tp = matrix[c][c];
            var support = matrix[c].Sum();
            var predictedAs = matrix.Sum(row => row[c]);
            // sklearn's zero_division=0: a class never predicted (or absent) scores 0, not NaN.
            var precision = predictedAs == 0 ? 0 : (double)tp / predictedAs;
            var recall = support == 0 ? 0 : (double)tp / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            return new ClassScores(classes[c], Math.Round(precision, 6), Math.Round(recall, 6), Math.Round(f1, 6), support);
        }).ToList();
        return new ClassificationReport(classes, matrix, perClass, truth.Length, Math.Round(truth.Length == 0 ? 0 : (double)correct / truth.Length, 6), wrong);
    }

    /// <summary>Example <paramref name="index"/>'s stored input (before any rescaling), flattened, with its shape.</summary>
    private static ExampleInput RawInput(Tensor inputs, long index)
    {
        using var row = inputs[index].to_type(ScalarType.Float32).contiguous();
        return new ExampleInput(row.shape.Select(d => (int)d).ToArray(), row.data<float>().ToArray());
    }
}

public sealed record ClassScores(string Class, double Precision, double Recall, double F1, long Support);

/// <summary><paramref name="Index"/> is the example's position in the evaluated set.</summary>
public sealed record MisclassifiedExample(long Index, int TrueClass, int PredictedClass, double Confidence, ExampleInput Input);

/// <summary>A raw example: its per-example shape (Keras order, e.g. H, W, C) and its values in row-major order.</summary>
public sealed record ExampleInput(int[] Shape, float[] Values);
