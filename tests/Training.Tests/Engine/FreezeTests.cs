using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

/// <summary>Keras 3's <c>trainable: false</c>: no updates, no optimizer slots, BatchNormalization in inference mode.</summary>
public class FreezeTests
{
    private sealed class LastCheckpoint : ITrainingObserver
    {
        public byte[]? Bytes { get; private set; }
        public void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint) => Bytes = checkpoint();
    }

    private static Dictionary<string, Tensor> Read(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes);
        return TensorArchive.Read(ms);
    }

    [Fact]
    public void FrozenLayers_KeepTheirWeightsAndStatistics_AndGetNoOptimizerSlots()
    {
        var plan = SpecFiles.Plan("""
            {"input_shape": [8], "layers": [
              {"type": "Dense", "name": "base", "units": 6, "activation": "relu", "trainable": false},
              {"type": "BatchNormalization", "name": "bn", "trainable": false},
              {"type": "Dense", "name": "head", "units": 3, "activation": "softmax"}]}
            """, """{"optimizer": "adam", "loss": "sparse_categorical_crossentropy"}""", """{"epochs": 2, "batch_size": 16, "seed": 1}""");
        Assert.Equal(6 * 3 + 3, plan.Summary.TrainableParameters);
        Assert.Equal(8 * 6 + 6 + 4 * 6, plan.Summary.NonTrainableParameters);
        using var data = Synthetic.Blobs(64);
        using var session = ModelSession.Create(plan);
        var before = Read(session.SaveWeights());
        var observer = new LastCheckpoint();
        session.Fit(data, null, observer, CancellationToken.None);
        var after = Read(session.SaveWeights());

        foreach (var name in before.Keys.Where(k => !k.StartsWith("head.", StringComparison.Ordinal)))
            Assert.True(before[name].eq(after[name]).all().item<bool>(), $"{name} changed although frozen");
        Assert.False(before["head.weight"].eq(after["head.weight"]).all().item<bool>());
        var slots = Read(observer.Bytes!).Keys.Where(k => k.StartsWith("o/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(slots);
        Assert.All(slots, k => Assert.Contains("head", k));
    }
}
