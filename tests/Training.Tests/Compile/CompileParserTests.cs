using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Losses;
using TrainingService.Training.Metrics;
using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Tests.Compile;

public class CompileParserTests
{
    private static readonly string[] One = ["dense_1"];
    private static readonly int[][] OneShape = [[10]];
    private static readonly string[] Two = ["digit", "parity"];
    private static readonly int[][] TwoShapes = [[10], [1]];

    internal static CompileOptions Ok(string json, string[]? names = null, int[][]? shapes = null)
    {
        var errors = new List<SpecError>();
        var c = CompileParser.Parse(JsonDocument.Parse(json).RootElement, "compile", names ?? One, shapes ?? OneShape, errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return c!;
    }

    private static List<SpecError> Errors(string? json, string[]? names = null, int[][]? shapes = null)
    {
        var errors = new List<SpecError>();
        JsonElement? element = json is null ? null : JsonDocument.Parse(json).RootElement;
        Assert.Null(CompileParser.Parse(element, "compile", names ?? One, shapes ?? OneShape, errors));
        Assert.NotEmpty(errors);
        return errors;
    }

    [Fact]
    public void MnistMlp_Compile_IsRead()
    {
        var c = Ok("""{"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}""");
        Assert.IsType<Adam>(c.Optimizer);
        var o = Assert.Single(c.Outputs);
        Assert.Equal("dense_1", o.OutputName);
        Assert.Equal("categorical_crossentropy", o.LossName);
        Assert.IsType<CategoricalCrossentropy>(o.Loss);
        Assert.Equal(1.0, o.LossWeight);
        Assert.Equal("accuracy", Assert.Single(o.Metrics).Name);
        Assert.Equal(["loss", "accuracy", "val_loss", "val_accuracy"], c.LogKeys(true).Select(k => k.Name));
    }

    [Fact]
    public void Optimizer_DefaultsToRmsprop()
    {
        var c = Ok("""{"loss": "mse"}""");
        Assert.IsType<RMSprop>(c.Optimizer);
        Assert.Empty(c.Outputs[0].Metrics);
    }

    [Fact]
    public void Keras3CompileConfig_IsRead()
    {
        var c = Ok("""
        {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam", "learning_rate": 0.001}, "registered_name": null},
         "loss": {"module": "builtins", "class_name": "function", "config": "sparse_categorical_crossentropy", "registered_name": "function"},
         "loss_weights": null, "metrics": ["accuracy"], "weighted_metrics": null, "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false}
        """);
        Assert.IsType<SparseCategoricalCrossentropy>(c.Outputs[0].Loss);
    }

    [Fact]
    public void TfKerasTrainingConfig_IsRead()
    {
        var c = Ok("""
        {"loss": "categorical_crossentropy", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}]],
         "weighted_metrics": null, "loss_weights": null, "optimizer_config": {"class_name": "Custom>Adam", "config": {"learning_rate": 0.001, "decay": 0.0}}}
        """);
        Assert.IsType<Adam>(c.Optimizer);
        Assert.Equal("accuracy", c.Outputs[0].Metrics.Single().Name);
    }

    [Fact]
    public void MultiOutput_PerOutputLossesWeightsAndMetrics()
    {
        var c = Ok("""
        {"loss": {"digit": "sparse_categorical_crossentropy", "parity": "binary_crossentropy"},
         "loss_weights": {"digit": 1.0, "parity": 0.5},
         "metrics": {"digit": ["accuracy"], "parity": ["accuracy", "auc"]}}
        """, Two, TwoShapes);
        Assert.Equal(0.5, c.Outputs[1].LossWeight);
        Assert.IsType<BinaryCrossentropy>(c.Outputs[1].Loss);
        Assert.Equal(["loss", "digit_loss", "parity_loss", "digit_accuracy", "parity_accuracy", "parity_auc"], c.LogKeys(false).Select(k => k.Name));
    }

    [Fact]
    public void MultiOutput_ListsArePositional_AndASingleLossAppliesToAll()
    {
        var c = Ok("""{"loss": "mse", "loss_weights": [2, 1], "metrics": ["mae", ["mse", "mae"]]}""", Two, TwoShapes);
        Assert.All(c.Outputs, o => Assert.IsType<MeanSquaredError>(o.Loss));
        Assert.Equal(2, c.Outputs[0].LossWeight);
        Assert.Equal(["digit_mae", "parity_mse", "parity_mae"], c.MetricKeys.SelectMany(k => k));
    }

    [Fact]
    public void RepeatedMetricNames_GetKerasSuffixes()
    {
        var c = Ok("""{"loss": "mse", "metrics": ["mae", "mae"]}""");
        Assert.Equal(["mae", "mae_1"], c.MetricKeys[0]);
    }

    [Fact]
    public void Accuracy_IsResolvedWhenCreated()
    {
        var spec = Ok("""{"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}""").Outputs[0].Metrics[0];
        Assert.True(spec.HigherIsBetter);
        Assert.IsType<MeanMetricWrapper>(spec.Create([10], []));
    }

    [Fact]
    public void MissingLoss_IsRequiredAndListsLosses()
    {
        var e = Assert.Single(Errors(null));
        Assert.Equal("compile.loss", e.Path);
        Assert.Contains("categorical_crossentropy", e.Message);
        Assert.Equal("compile.loss", Assert.Single(Errors("""{"optimizer": "adam"}""")).Path);
    }

    [Fact]
    public void Errors_NameTheirPaths()
    {
        Assert.Contains(Errors("""{"optimizer": {"type": "Adam", "learning_rate": 0}, "loss": "mse"}"""), e => e.Path == "compile.optimizer.learning_rate");
        Assert.Contains(Errors("""{"optimizer": "adamm", "loss": "mse"}"""), e => e.Path == "compile.optimizer" && e.Message.Contains("Nadam"));
        Assert.Contains(Errors("""{"loss": "msee"}"""), e => e.Path == "compile.loss");
        Assert.Contains(Errors("""{"loss": "mse", "metrics": ["mae", "acuracy"]}"""), e => e.Path == "compile.metrics[1]");
        Assert.Contains(Errors("""{"loss": "mse", "lose_weights": [1]}"""), e => e.Path == "compile.lose_weights" && e.Message.Contains("loss_weights"));
        Assert.Contains(Errors("""{"loss": {"digit": "mse", "parity": "msee"}}""", Two, TwoShapes), e => e.Path == "compile.loss.parity");
        Assert.Contains(Errors("""{"loss": {"digit": "mse"}}""", Two, TwoShapes), e => e.Path == "compile.loss.parity");
        Assert.Contains(Errors("""{"loss": {"digit": "mse", "parity": "mse", "other": "mse"}}""", Two, TwoShapes), e => e.Path == "compile.loss.other" && e.Message.Contains("digit, parity"));
        Assert.Contains(Errors("""{"loss": ["mse"]}""", Two, TwoShapes), e => e.Path == "compile.loss");
        Assert.Contains(Errors("""{"loss": "mse", "metrics": ["mae"]}""", ["a", "b", "c"], [[1], [1], [1]]), e => e.Path == "compile.metrics");
        Assert.Contains(Errors("""{"loss": "mse", "weighted_metrics": ["mae"]}"""), e => e.Path == "compile.weighted_metrics");
    }

    [Fact]
    public void CheckTargets_ReportsPerOutputProblems()
    {
        var c = Ok("""{"loss": ["sparse_categorical_crossentropy", "binary_crossentropy"]}""", Two, TwoShapes);
        Assert.Empty(c.CheckTargets(TwoShapes, [new TargetSignature([], true, 10), new TargetSignature([], true, 2)], "data.targets"));
        var errors = c.CheckTargets(TwoShapes, [new TargetSignature([10], false, 10), new TargetSignature([], true, 2)], "data.targets");
        var e = Assert.Single(errors);
        Assert.Equal("data.targets[0]", e.Path);
        Assert.Contains("digit", e.Message);
        Assert.Single(c.CheckTargets(TwoShapes, [new TargetSignature([], true, 10)], "data.targets"));
    }

    [Fact]
    public void CheckTargets_BinaryCrossentropyOnTenWideOutputWithLabels_IsAnError()
    {
        var c = Ok("""{"loss": "binary_crossentropy"}""");
        var e = Assert.Single(c.CheckTargets(OneShape, [new TargetSignature([], true, 10)], "data"));
        Assert.Contains("sparse_categorical_crossentropy", e.Message);
    }
}
