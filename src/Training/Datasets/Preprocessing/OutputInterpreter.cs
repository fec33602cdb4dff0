using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>Model outputs → class index, class name and probabilities. Outputs are expected to be probabilities
/// (softmax/sigmoid last layer); rows that cannot be probabilities are taken as logits and squashed.</summary>
internal static class OutputInterpreter
{
    public static IReadOnlyList<InstancePrediction> Interpret(FittedPreprocessing fp, IReadOnlyList<Tensor> outputs)
    {
        if (outputs.Count != fp.Targets.Count)
            throw new ArgumentException($"The model gave {outputs.Count} outputs; the data has {fp.Targets.Count} targets.");
        var n = outputs.Count == 0 ? 0 : outputs[0].shape[0];
        var rows = outputs.Select(o => o.to_type(ScalarType.Float32).reshape(o.shape[0], -1).cpu().data<float>().ToArray()).ToArray();
        var result = new InstancePrediction[n];
        for (var i = 0; i < n; i++)
        {
            var per = new TargetPrediction[outputs.Count];
            for (var k = 0; k < outputs.Count; k++)
            {
                var t = fp.Targets[k];
                var width = (int)(rows[k].Length / n);
                var row = rows[k].AsSpan(i * width, width).ToArray();
                per[k] = t.IsClass ? Classify(t, row) : new TargetPrediction(t.Name, null, null, null, row);
            }
            result[i] = new InstancePrediction(per);
        }
        return result;
    }

    private static TargetPrediction Classify(FittedTarget t, float[] row)
    {
        float[] probs;
        if (row.Length == 1)
        {
            var p = row[0] is >= 0 and <= 1 ? row[0] : 1f / (1f + MathF.Exp(-row[0]));
            probs = [1 - p, p];
        }
        else
        {
            var isProb = row.All(v => v is >= 0 and <= 1) && Math.Abs(row.Sum() - 1) < 1e-3;
            if (isProb) probs = row;
            else
            {
                var max = row.Max();
                var e = row.Select(v => MathF.Exp(v - max)).ToArray();
                var s = e.Sum();
                probs = e.Select(v => v / s).ToArray();
            }
        }
        var best = 0;
        for (var c = 1; c < probs.Length; c++) if (probs[c] > probs[best]) best = c;
        var names = t.ClassNames!;
        return new TargetPrediction(t.Name, best, best < names.Count ? names[best] : null, probs, null);
    }
}
