using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>examples/imdb-transformer.json (keras.io's "Text classification with Transformer") parses to Keras's
/// parameter count and learns a synthetic text-classification task. Real IMDB cannot be downloaded here.</summary>
public class TransformerTests(ITestOutputHelper output)
{
    [Fact]
    public void ImdbTransformerExample_HasKerasParameterCount()
    {
        var plan = SpecFiles.Example("imdb-transformer.json");
        const long embedding = (20000 + 200) * 32, attention = 4 * 32 * 2 * 32 + 3 * 2 * 32 + 32, norms = 2 * 64,
            ffn = 2 * (32 * 32 + 32), head = 32 * 20 + 20 + 20 * 2 + 2;
        Assert.Equal(embedding + attention + norms + ffn + head, plan.Summary.TotalParameters);
        Assert.Equal([2], plan.OutputShapes[0]);
    }

    /// <summary>Reviews of random words; the positive ones contain the word 7 somewhere (three times).</summary>
    private static ArrayDataset MarkedSequences(int count, int steps, int vocabulary, int seed)
    {
        using var g = new Generator((ulong)seed);
        var x = randint(8, vocabulary, [count, steps], ScalarType.Int64, generator: g);
        var y = randint(0, 2, [count], ScalarType.Int64, generator: g);
        var labels = y.data<long>().ToArray();
        for (var i = 0; i < count; i++)
        {
            if (labels[i] == 0) continue;
            var positions = randperm(steps, ScalarType.Int64, generator: g).narrow(0, 0, 3).data<long>().ToArray();
            foreach (var p in positions) x[i, p] = 7;
        }
        return new ArrayDataset([x], [y]);
    }

    [Fact]
    public void ImdbTransformer_LearnsASyntheticTokenPattern_WellAboveChance()
    {
        // The example's architecture with a smaller vocabulary and sequence length, so the test stays fast.
        var json = File.ReadAllText(Path.Combine(SpecFiles.RepoRoot, "examples", "imdb-transformer.json"))
            .Replace("20000", "60").Replace("200", "24");
        var spec = SpecFiles.Json(json);
        var plan = TrainingPlan.Parse(spec.GetProperty("model"), spec.GetProperty("compile"), SpecFiles.Json("""{"epochs": 3, "batch_size": 32, "seed": 2}"""));
        using var train = MarkedSequences(480, 24, 60, seed: 1);
        using var test = MarkedSequences(200, 24, 60, seed: 2);
        using var session = ModelSession.Create(plan);
        var fit = session.Fit(train, null, null, CancellationToken.None);
        foreach (var e in fit.History) output.WriteLine($"epoch {e.Epoch}: loss {e.Logs["loss"]:F4} accuracy {e.Logs["accuracy"]:F4}");
        var score = session.Evaluate(test);
        output.WriteLine($"test accuracy {score["accuracy"]:F4}");
        Assert.True(score["accuracy"] >= 0.9, $"test accuracy {score["accuracy"]:F4}; chance is 0.5");
    }
}
