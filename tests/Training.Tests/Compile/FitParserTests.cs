using System.Text.Json;
using TrainingService.Training.Callbacks;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Tests.Compile;

public class FitParserTests
{
    private static readonly EngineLimits Limits = new() { MaxEpochs = 100, MaxBatchSize = 1024 };

    private static FitOptions Ok(string? json)
    {
        var errors = new List<SpecError>();
        JsonElement? element = json is null ? null : JsonDocument.Parse(json).RootElement;
        var fit = FitParser.Parse(element, "fit", Limits, errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return fit!;
    }

    private static List<SpecError> Errors(string json)
    {
        var errors = new List<SpecError>();
        Assert.Null(FitParser.Parse(JsonDocument.Parse(json).RootElement, "fit", Limits, errors));
        return errors;
    }

    [Fact]
    public void Absent_GivesKerasDefaults()
    {
        var fit = Ok(null);
        Assert.Equal(1, fit.Epochs);
        Assert.Equal(32, fit.BatchSize);
        Assert.Equal(0, fit.ValidationSplit);
        Assert.True(fit.Shuffle);
        Assert.Equal(FitOptions.DefaultSeed, fit.Seed);
        Assert.Null(fit.ClassWeight);
        Assert.Empty(fit.Callbacks);
    }

    [Fact]
    public void Keys_AreRead()
    {
        var fit = Ok("""
        {"epochs": 10, "batch_size": 64, "validation_split": 0.1, "shuffle": false, "seed": 7, "verbose": 2,
         "class_weight": {"0": 1.0, "1": 5.0},
         "callbacks": [{"type": "EarlyStopping", "monitor": "val_accuracy", "patience": 3, "restore_best_weights": true},
                       {"class_name": "ReduceLROnPlateau", "config": {"factor": 0.5, "patience": 2}}, "EarlyStopping"]}
        """);
        Assert.Equal(10, fit.Epochs);
        Assert.Equal(64, fit.BatchSize);
        Assert.Equal(0.1, fit.ValidationSplit);
        Assert.False(fit.Shuffle);
        Assert.Equal(7, fit.Seed);
        Assert.Equal(5.0, fit.ClassWeight![1]);
        var es = Assert.IsType<EarlyStopping>(fit.Callbacks[0]);
        Assert.Equal(("val_accuracy", 3, true), (es.MonitorKey, es.Patience, es.RestoreBestWeights));
        Assert.Equal(0.5, Assert.IsType<ReduceLROnPlateau>(fit.Callbacks[1]).Factor);
        Assert.Equal("val_loss", fit.Callbacks[2].Monitor);
    }

    [Fact]
    public void Errors_NamePathsAndLimits()
    {
        Assert.Contains(Errors("""{"epochs": 1000}"""), e => e.Path == "fit.epochs" && e.Message.Contains("100"));
        Assert.Contains(Errors("""{"batch_size": 4096}"""), e => e.Path == "fit.batch_size");
        Assert.Contains(Errors("""{"epochs": -1}"""), e => e.Path == "fit.epochs");
        Assert.Contains(Errors("""{"validation_split": 1.0}"""), e => e.Path == "fit.validation_split");
        Assert.Contains(Errors("""{"epoch": 3}"""), e => e.Path == "fit.epoch" && e.Message.Contains("epochs"));
        Assert.Contains(Errors("""{"class_weight": {"a": 1}}"""), e => e.Path == "fit.class_weight.a");
        Assert.Contains(Errors("""{"callbacks": [{"type": "EarlyStopping", "patience": -1}]}"""), e => e.Path == "fit.callbacks[0].patience");
        Assert.Contains(Errors("""{"callbacks": [{"type": "EarlyStopping", "mode": "up"}]}"""), e => e.Path == "fit.callbacks[0].mode");
        Assert.Contains(Errors("""{"callbacks": [{}, {"type": "ModelCheckpoint"}]}"""), e => e.Path == "fit.callbacks[1].type" && e.Message.Contains("ReduceLROnPlateau"));
        Assert.Contains(Errors("""{"callbacks": [{"type": "ReduceLROnPlateau", "factor": 1.5}]}"""), e => e.Path == "fit.callbacks[0].factor");
    }

    [Fact]
    public void CheckCallbacks_ValidatesMonitorAgainstLogKeys()
    {
        var compile = CompileParserTests.Ok("""{"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}""");
        var fit = Ok("""{"callbacks": [{"type": "EarlyStopping", "monitor": "val_accuracy"}, {"type": "EarlyStopping", "monitor": "val_acc"}]}""");
        var e = Assert.Single(fit.CheckCallbacks(compile, hasValidation: true));
        Assert.Equal("fit.callbacks[1].monitor", e.Path);
        Assert.Contains("val_accuracy", e.Message);
        var noValidation = fit.CheckCallbacks(compile, hasValidation: false);
        Assert.Equal(2, noValidation.Count);
        Assert.Contains("validation", noValidation[0].Message);
    }

    [Fact]
    public void CheckCallbacks_RefusesReduceLROnPlateauWithSchedule()
    {
        var compile = CompileParserTests.Ok("""{"optimizer": {"type": "SGD", "learning_rate": {"type": "CosineDecay", "initial_learning_rate": 0.1, "decay_steps": 100}}, "loss": "mse"}""");
        var fit = Ok("""{"callbacks": [{"type": "ReduceLROnPlateau", "monitor": "loss"}]}""");
        Assert.Equal("fit.callbacks[0]", Assert.Single(fit.CheckCallbacks(compile, false)).Path);
    }

    [Fact]
    public void EarlyStopping_OnAuc_FollowsTheMetricDirection()
    {
        var compile = CompileParserTests.Ok("""{"loss": "binary_crossentropy", "metrics": ["auc"]}""", ["out"], [[1]]);
        var fit = Ok("""{"callbacks": [{"type": "EarlyStopping", "monitor": "val_auc"}]}""");
        Assert.True(((EarlyStoppingCallback)fit.Callbacks[0].Create(compile.LogKeys(true))).HigherIsBetter);
    }
}
