using TrainingService.Training.Callbacks;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Callbacks;

public class CallbackTests
{
    /// <summary>A model of one weight whose value is the epoch number it was last set in.</summary>
    private sealed class FakeModel
    {
        public double Weight;
        public double LearningRate = 0.1;
        public TrainingControl Control() => new(
            () => LearningRate, lr => LearningRate = lr,
            () => new Dictionary<string, Tensor> { ["w"] = tensor(Weight) },
            w => Weight = w["w"].item<double>());
    }

    private static readonly (string, bool)[] Keys = [("loss", false), ("accuracy", true), ("val_loss", false), ("val_accuracy", true)];

    /// <summary>Runs epochs with the given monitored values; returns the number of epochs run.</summary>
    private static int Run(Callback callback, FakeModel model, TrainingControl control, string key, params double[] values)
    {
        callback.OnTrainBegin(control);
        var epochs = 0;
        for (var epoch = 0; epoch < values.Length && !control.StopTraining; epoch++)
        {
            model.Weight = epoch;
            callback.OnEpochEnd(epoch, new Dictionary<string, double> { [key] = values[epoch] }, control);
            epochs++;
        }
        callback.OnTrainEnd(control);
        return epochs;
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatienceEpochsWithoutImprovement()
    {
        var model = new FakeModel();
        var control = model.Control();
        var es = new EarlyStopping { Patience = 2 }.Create(Keys);
        Assert.Equal(4, Run(es, model, control, "val_loss", 1.0, 0.8, 0.9, 0.85, 0.7, 0.6));
        Assert.True(control.StopTraining);
        Assert.Equal(2, control.BestEpoch);
    }

    [Fact]
    public void EarlyStopping_PatienceZero_StopsOnFirstNonImprovementButNeverAtEpochZero()
    {
        var model = new FakeModel();
        var es = new EarlyStopping { MonitorKey = "loss" }.Create(Keys);
        Assert.Equal(3, Run(es, model, model.Control(), "loss", 1.0, 0.9, 0.95, 0.5));
    }

    [Fact]
    public void EarlyStopping_MinDelta_SmallGainsDoNotCount()
    {
        var model = new FakeModel();
        var es = new EarlyStopping { Patience = 1, MinDelta = 0.1 }.Create(Keys);
        Assert.Equal(2, Run(es, model, model.Control(), "val_loss", 1.0, 0.95, 0.5));
    }

    [Fact]
    public void EarlyStopping_AccuracyInAutoMode_IsMaximised()
    {
        var model = new FakeModel();
        var es = new EarlyStopping { MonitorKey = "val_accuracy", Patience = 1 }.Create(Keys);
        Assert.True(((EarlyStoppingCallback)es).HigherIsBetter);
        // Keras counts the wait before checking: patience 1 stops at the first epoch without improvement.
        Assert.Equal(3, Run(es, model, model.Control(), "val_accuracy", 0.5, 0.6, 0.55, 0.58, 0.9));
    }

    [Fact]
    public void EarlyStopping_Baseline_WaitsOnlyResetWhenBeatingIt()
    {
        // Improvements that do not beat the baseline 0.5 leave the wait counting: the first epoch without improvement
        // then stops (wait 3 ≥ 2); without a baseline the same values run on.
        var model = new FakeModel();
        var es = new EarlyStopping { Patience = 2, Baseline = 0.5 }.Create(Keys);
        Assert.Equal(3, Run(es, model, model.Control(), "val_loss", 0.9, 0.8, 0.85, 0.7, 0.4));
        var plain = new EarlyStopping { Patience = 2 }.Create(Keys);
        Assert.Equal(5, Run(plain, model, model.Control(), "val_loss", 0.9, 0.8, 0.85, 0.7, 0.4));
    }

    [Fact]
    public void EarlyStopping_RestoreBestWeights_RestoresAtTrainEndEvenWithoutEarlyStop()
    {
        var model = new FakeModel();
        var control = model.Control();
        var es = new EarlyStopping { Patience = 10, RestoreBestWeights = true }.Create(Keys);
        Assert.Equal(4, Run(es, model, control, "val_loss", 0.9, 0.5, 0.7, 0.8));
        Assert.False(control.StopTraining);
        Assert.Equal(1, model.Weight);
        Assert.Equal(2, control.BestEpoch);
    }

    [Fact]
    public void EarlyStopping_StartFromEpoch_IgnoresWarmup()
    {
        var model = new FakeModel();
        var es = new EarlyStopping { Patience = 0, StartFromEpoch = 2 }.Create(Keys);
        Assert.Equal(4, Run(es, model, model.Control(), "val_loss", 1.0, 2.0, 3.0, 4.0, 5.0));
    }

    [Fact]
    public void EarlyStopping_StateRoundTrip_ResumesTheSameDecision()
    {
        var model = new FakeModel();
        var control = model.Control();
        var config = new EarlyStopping { Patience = 2, RestoreBestWeights = true };
        var a = config.Create(Keys);
        a.OnTrainBegin(control);
        foreach (var (epoch, v) in new[] { (0, 1.0), (1, 0.5), (2, 0.7) })
        {
            model.Weight = epoch;
            a.OnEpochEnd(epoch, new Dictionary<string, double> { ["val_loss"] = v }, control);
        }
        var b = config.Create(Keys);
        b.LoadState(a.SaveState());
        b.LoadStateTensors(a.StateTensors().ToDictionary(t => t.Name, t => t.Value));
        b.OnTrainBegin(control);
        model.Weight = 3;
        b.OnEpochEnd(3, new Dictionary<string, double> { ["val_loss"] = 0.6 }, control);
        Assert.True(control.StopTraining);
        b.OnTrainEnd(control);
        Assert.Equal(1, model.Weight);
    }

    [Fact]
    public void ReduceLROnPlateau_ReducesAfterPatienceThenCoolsDown()
    {
        var model = new FakeModel { LearningRate = 0.1 };
        var control = model.Control();
        var cb = new ReduceLROnPlateau { Patience = 2, Factor = 0.5, Cooldown = 1 }.Create(Keys);
        cb.OnTrainBegin(control);
        var lrs = new List<double>();
        double[] values = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        for (var e = 0; e < values.Length; e++)
        {
            cb.OnEpochEnd(e, new Dictionary<string, double> { ["val_loss"] = values[e] }, control);
            lrs.Add(model.LearningRate);
        }
        // epoch 2: wait 2 → 0.05 (cooldown 1); epoch 3: the cooldown ends and, as in Keras, the same epoch counts wait 1;
        // epoch 4: wait 2 → 0.025; epoch 6 → 0.0125.
        float[] expected = [0.1f, 0.1f, 0.05f, 0.05f, 0.025f, 0.025f, 0.0125f];
        Assert.Equal(expected, lrs.Select(x => (float)x).ToArray());
    }

    [Fact]
    public void ReduceLROnPlateau_MinDeltaAndMinLr()
    {
        var model = new FakeModel { LearningRate = 0.01 };
        var control = model.Control();
        var cb = new ReduceLROnPlateau { Patience = 1, Factor = 0.1, MinLr = 0.005, MinDelta = 0.1 }.Create(Keys);
        cb.OnTrainBegin(control);
        cb.OnEpochEnd(0, new Dictionary<string, double> { ["val_loss"] = 1.0 }, control);
        cb.OnEpochEnd(1, new Dictionary<string, double> { ["val_loss"] = 0.95 }, control); // not better by 0.1 → reduce
        Assert.Equal(0.005, model.LearningRate, 6);
        cb.OnEpochEnd(2, new Dictionary<string, double> { ["val_loss"] = 0.95 }, control); // already at min_lr
        Assert.Equal(0.005, model.LearningRate, 6);
    }

    [Fact]
    public void ReduceLROnPlateau_AutoMode_FollowsKerasAccNameRule()
    {
        Assert.True(((ReduceLROnPlateauCallback)new ReduceLROnPlateau { MonitorKey = "val_accuracy" }.Create(Keys)).HigherIsBetter);
        Assert.False(((ReduceLROnPlateauCallback)new ReduceLROnPlateau { MonitorKey = "val_auc" }.Create(Keys)).HigherIsBetter);
        Assert.True(((ReduceLROnPlateauCallback)new ReduceLROnPlateau { MonitorKey = "val_auc", Mode = "max" }.Create(Keys)).HigherIsBetter);
    }
}
