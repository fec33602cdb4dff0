using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Tests.Support;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Engine;

public class ModelSessionTests
{
    private const string Mlp = """
{"input_shape": [8], "layers": [{"type": "Dense", "units": 16, "activation": "relu"},
        {"type": "Dropout", "rate": 0.3}, {"type": "Dense", "units": 3, "activation": "softmax"}]}
""";
    private const string Compile = """{"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""";

    private static TrainingPlan Plan(string fit = """{"epochs": 4, "batch_size": 16, "validation_split": 0.25, "seed": 3}""") =>
        SpecFiles.Plan(Mlp, Compile, fit);

    private sealed class Recorder : ITrainingObserver
    {
        public List<EpochReport> Reports { get; } = [];
        public Dictionary<int, byte[]> Checkpoints { get; } = [];

        public void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint)
        {
            Reports.Add(report);
            Checkpoints[report.Epoch] = checkpoint();
        }
    }

    [Fact]
    public void Fit_LearnsASeparableProblem_AndReportsEveryEpoch()
    {
        using var data = Synthetic.Blobs(400);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp,
            """{"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""",
            """{"epochs": 15, "batch_size": 16, "validation_split": 0.25, "seed": 3}"""));
        var recorder = new Recorder();
        var result = session.Fit(data, null, recorder, CancellationToken.None);
        Assert.Equal(15, result.History.Count);
        Assert.Equal(Enumerable.Range(1, 15), recorder.Reports.Select(r => r.Epoch));
        var last = result.History[^1].Logs;
        Assert.Equal(["accuracy", "loss", "val_accuracy", "val_loss"], last.Keys.Order().ToArray());
        Assert.True(last["val_accuracy"] > 0.9, $"val_accuracy {last["val_accuracy"]}");
        Assert.True(result.History[^1].Logs["loss"] < result.History[0].Logs["loss"]);
        Assert.Equal(0.01, result.History[0].LearningRate, 9);
    }

    [Fact]
    public void Fit_IsDeterministic_ForTheSameSeed()
    {
        using var data = Synthetic.Blobs(200);
        using var a = ModelSession.Create(Plan());
        using var b = ModelSession.Create(Plan());
        var ha = a.Fit(data, null, null, CancellationToken.None).History;
        var hb = b.Fit(data, null, null, CancellationToken.None).History;
        Assert.Equal(ha.Select(h => h.Logs["loss"]), hb.Select(h => h.Logs["loss"]));
        Assert.Equal(a.SaveWeights(), b.SaveWeights());
    }

    [Fact]
    public void Fit_DiffersForAnotherSeed()
    {
        using var data = Synthetic.Blobs(200);
        using var a = ModelSession.Create(Plan());
        using var b = ModelSession.Create(Plan("""{"epochs": 4, "batch_size": 16, "validation_split": 0.25, "seed": 4}"""));
        a.Fit(data, null, null, CancellationToken.None);
        b.Fit(data, null, null, CancellationToken.None);
        Assert.NotEqual(a.SaveWeights(), b.SaveWeights());
    }

    [Fact]
    public void Fit_ResumedFromACheckpoint_EndsExactlyAsAnUninterruptedRun()
    {
        using var data = Synthetic.Blobs(200);
        using var full = ModelSession.Create(Plan());
        var recorder = new Recorder();
        var uninterrupted = full.Fit(data, null, recorder, CancellationToken.None);

        using var resumed = ModelSession.Create(Plan());
        var after2 = resumed.Fit(data, null, null, CancellationToken.None, resumeFrom: () => new MemoryStream(recorder.Checkpoints[2]));

        Assert.Equal(uninterrupted.History.Select(h => h.Logs["loss"]), after2.History.Select(h => h.Logs["loss"]));
        Assert.Equal(uninterrupted.History.Select(h => h.Logs["val_accuracy"]), after2.History.Select(h => h.Logs["val_accuracy"]));
        Assert.Equal(full.SaveWeights(), resumed.SaveWeights());
    }

    [Fact]
    public void Restore_FromSavedWeights_PredictsBitForBit()
    {
        using var data = Synthetic.Blobs(120);
        using var trained = ModelSession.Create(Plan());
        trained.Fit(data, null, null, CancellationToken.None);
        using var rebuilt = ModelSession.Restore(Plan(), trained.SaveWeights());
        using var p1 = trained.Predict(data)[0];
        using var p2 = rebuilt.Predict(data)[0];
        Assert.Equal(p1.data<float>().ToArray(), p2.data<float>().ToArray());
        Assert.Equal([120L, 3L], p1.shape);
    }

    [Fact]
    public void Fit_HonoursCancellation_BetweenBatches_InTheMiddleOfAnEpoch()
    {
        // 100 batches an epoch; the token is cancelled while batch 30 of the second epoch is being gathered, so no
        // later batch may start and the second epoch never ends.
        using var blobs = Synthetic.Blobs(400);
        using var cts = new CancellationTokenSource();
        var batches = new CancelAtBatch(cts, at: 130);
        var data = new ArrayDataset(blobs.Inputs, blobs.Targets, batches);   // shares blobs' tensors; blobs disposes them
        using var session = ModelSession.Create(Plan("""{"epochs": 50, "batch_size": 4}"""));
        var observer = new CountEpochs();
        Assert.ThrowsAny<OperationCanceledException>(() => session.Fit(data, null, observer, cts.Token));
        Assert.Equal(1, observer.Epochs);
        Assert.Equal(130, batches.Count);
    }

    private sealed class CancelAtBatch(CancellationTokenSource cts, int at) : IBatchTransform
    {
        public int Count { get; private set; }

        public Tensor[] Apply(Tensor[] rawInputs, bool training, Generator rng)
        {
            if (++Count == at) cts.Cancel();
            return rawInputs;
        }
    }

    private sealed class CountEpochs : ITrainingObserver
    {
        public int Epochs { get; private set; }

        public void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint) => Epochs++;
    }

    [Fact]
    public void ValidationSplit_TakesTheLastFraction_BeforeShuffling()
    {
        // Labels 0 for the first 75 examples, 1 for the last 25: with validation_split 0.25 every validation
        // example is class 1, so a model that has only ever seen class 0 scores 0 on it.
        var x = randn(100, 8);
        var y = cat([zeros(75, ScalarType.Int64), ones(25, ScalarType.Int64)]);
        using var data = new TrainingService.Training.Data.ArrayDataset([x], [y]);
        using var session = ModelSession.Create(SpecFiles.Plan(Mlp,
            """{"optimizer": {"type": "Adam", "learning_rate": 0.05}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""",
            """{"epochs": 20, "batch_size": 16, "validation_split": 0.25}"""));
        var logs = session.Fit(data, null, null, CancellationToken.None).History[^1].Logs;
        Assert.Equal(0.0, logs["val_accuracy"]);
        Assert.Equal(1.0, logs["accuracy"]);
    }
}
