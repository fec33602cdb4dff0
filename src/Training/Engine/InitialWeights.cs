using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>
/// Another run's weights as the starting point of a new model (transfer learning): weights are matched by layer name.
/// A layer of the new model that the source also has must have every weight with the same shape; a layer the source
/// lacks (a new head) keeps its fresh Keras initialisation. At least one layer must match.
/// </summary>
public static class InitialWeights
{
    /// <summary>The matched weights as a tensor archive (state-dict names), and a note on what was taken.</summary>
    /// <param name="source">The source run's final weights (a tensor archive), or a checkpoint (its <c>w/</c> entries).</param>
    /// <exception cref="SpecException">A shape mismatch or nothing in common, at <paramref name="path"/>.</exception>
    public static (byte[] Archive, string Note) Select(TrainingPlan plan, byte[] source, bool checkpoint, string path)
    {
        Dictionary<string, Tensor> saved;
        using (var ms = new MemoryStream(source)) saved = TensorArchive.Read(ms);
        try
        {
            var weights = checkpoint
                ? saved.Where(kv => kv.Key.StartsWith("w/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[2..], kv => kv.Value)
                : saved;
            using var session = ModelSession.Create(plan);
            var target = session.WeightShapes();
            var byLayer = target.GroupBy(kv => LayerOf(kv.Key)).ToList();
            var errors = new List<SpecError>();
            var taken = new List<(string, Tensor)>();
            var loaded = new List<string>();
            var fresh = new List<string>();
            foreach (var layer in byLayer)
            {
                if (!weights.Keys.Any(k => LayerOf(k) == layer.Key))
                {
                    fresh.Add(layer.Key);
                    continue;
                }
                foreach (var (name, shape) in layer)
                {
                    if (!weights.TryGetValue(name, out var w))
                        errors.Add(new SpecError(path, $"layer '{layer.Key}': the source run has no weight '{name}'; the layer's type or config differs"));
                    else if (!w.shape.SequenceEqual(shape))
                        errors.Add(new SpecError(path, $"layer '{layer.Key}': weight '{name}' has shape [{string.Join(", ", w.shape)}] in the source run, the model needs [{string.Join(", ", shape)}]; rename the layer to start it fresh"));
                    else taken.Add((name, w));
                }
                loaded.Add(layer.Key);
            }
            if (errors.Count == 0 && loaded.Count == 0)
                errors.Add(new SpecError(path, $"no layer of the model is in the source run (layers: {string.Join(", ", byLayer.Select(l => l.Key))}); weights are matched by layer name"));
            if (errors.Count > 0) throw new SpecException(errors);
            var note = $"starts from the source run's weights for {string.Join(", ", loaded)}"
                + (fresh.Count > 0 ? $"; {string.Join(", ", fresh)} start{(fresh.Count == 1 ? "s" : "")} fresh" : "");
            return (TensorArchive.ToBytes(taken), note);
        }
        finally
        {
            foreach (var t in saved.Values) t.Dispose();
        }
    }

    /// <summary>The layer a state-dict entry belongs to: its name up to the first dot ("dense_1.weight" → "dense_1").</summary>
    private static string LayerOf(string name) => name.Split('.')[0];
}
