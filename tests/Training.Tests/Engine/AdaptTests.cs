using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>Normalization adapts to the training split before training (Keras's adapt), and the statistics travel
/// with the weights to prediction.</summary>
public class AdaptTests
{
    private const string Model = """
        {"input_shape": [2], "layers": [{"type": "Normalization", "name": "norm"}, {"type": "Dense", "name": "out", "units": 1}]}
        """;

    [Fact]
    public void Normalization_AdaptsOnTheTrainingSplitOnly_AndIsRestoredForPrediction()
    {
        // Training part (first 4 rows): column 0 = 1, 2, 3, 4 (mean 2.5, biased variance 1.25); column 1 = 10 each.
        // The last row is the validation split (validation_split 0.2) and must not count.
        var x = tensor(new float[] { 1, 10, 2, 10, 3, 10, 4, 10, 1000, -1000 }, [5, 2]);
        var y = tensor(new float[] { 0, 1, 0, 1, 0 }, [5, 1]);
        using var data = new ArrayDataset([x], [y]);
        var plan = SpecFiles.Plan(Model, """{"optimizer": "sgd", "loss": "mse"}""", """{"epochs": 1, "batch_size": 2, "validation_split": 0.2}""");
        Assert.Equal(4, plan.Summary.NonTrainableParameters);
        using var session = ModelSession.Create(plan);
        session.Fit(data, null, null, CancellationToken.None);
        var weights = session.SaveWeights();
        using var ms = new MemoryStream(weights);
        var saved = TensorArchive.Read(ms);
        Assert.Equal([2.5f, 10f], saved["norm.mean"].data<float>().ToArray());
        Assert.Equal([1.25f, 0f], saved["norm.variance"].data<float>().ToArray());

        using var restored = ModelSession.Restore(plan, weights);
        var probe = tensor(new float[] { 3.5f, 10 }, [1, 2]);
        Assert.Equal(session.Predict([probe])[0].item<float>(), restored.Predict([probe])[0].item<float>());
        // (3.5 − 2.5)/√1.25 and (10 − 10)/1e-7 = 0 reach the Dense layer.
        var w = saved["out.weight"].data<float>().ToArray();
        var b = saved["out.bias"].item<float>();
        Assert.Equal(w[0] * (1 / Math.Sqrt(1.25)) + b, restored.Predict([probe])[0].item<float>(), 5);
    }
}
