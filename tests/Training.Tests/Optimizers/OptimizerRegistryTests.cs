using System.Text.Json;
using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Tests.Optimizers;

public class OptimizerRegistryTests
{
    internal static OptimizerConfig ParseOk(string json)
    {
        var errors = new List<SpecError>();
        var config = OptimizerRegistry.Parse(JsonDocument.Parse(json).RootElement, "compile.optimizer", errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return config!;
    }

    internal static List<SpecError> ParseErrors(string json)
    {
        var errors = new List<SpecError>();
        Assert.Null(OptimizerRegistry.Parse(JsonDocument.Parse(json).RootElement, "compile.optimizer", errors));
        Assert.NotEmpty(errors);
        return errors;
    }

    [Theory]
    [InlineData("\"adam\"", typeof(Adam), 0.001)]
    [InlineData("\"Adam\"", typeof(Adam), 0.001)]
    [InlineData("\"sgd\"", typeof(Sgd), 0.01)]
    [InlineData("\"SGD\"", typeof(Sgd), 0.01)]
    [InlineData("\"rmsprop\"", typeof(RMSprop), 0.001)]
    [InlineData("\"AdamW\"", typeof(AdamW), 0.001)]
    [InlineData("\"adagrad\"", typeof(Adagrad), 0.001)]
    [InlineData("\"adadelta\"", typeof(Adadelta), 0.001)]
    [InlineData("\"adamax\"", typeof(Adamax), 0.001)]
    [InlineData("\"nadam\"", typeof(Nadam), 0.001)]
    public void Name_GivesKerasDefaults(string json, Type type, double lr)
    {
        var config = ParseOk(json);
        Assert.IsType(type, config);
        Assert.Equal(lr, config.InitialLearningRate);
    }

    [Fact]
    public void TypeObject_BindsKerasKeys()
    {
        var config = Assert.IsType<Adam>(ParseOk("""{"type": "Adam", "learning_rate": 0.0005, "beta_1": 0.8, "amsgrad": true, "clipnorm": 1.0}"""));
        Assert.Equal(0.0005, config.LearningRate);
        Assert.Equal(0.8, config.Beta1);
        Assert.True(config.Amsgrad);
        Assert.Equal(1.0, config.Clipnorm);
    }

    [Fact]
    public void Keras3Serialized_WithBookkeepingKeys_IsRead()
    {
        var json = """
        {"module": "keras.optimizers", "class_name": "Adam", "registered_name": null,
         "config": {"name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": null, "clipnorm": null,
                    "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
                    "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null,
                    "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}}
        """;
        var config = Assert.IsType<Adam>(ParseOk(json));
        Assert.Equal(0.0010000000474974513, config.LearningRate);
    }

    [Fact]
    public void TfKerasCustomPrefix_AndLegacyLrAndDecay_AreRead()
    {
        var config = Assert.IsType<RMSprop>(ParseOk("""{"class_name": "Custom>RMSprop", "config": {"lr": 0.01, "decay": 0.5, "rho": 0.9, "epsilon": null, "is_legacy_optimizer": true}}"""));
        Assert.Equal(0.01, config.LearningRate);
        var schedule = Assert.IsType<InverseTimeDecay>(config.Schedule);
        Assert.Equal(0.01 / (1 + 0.5 * 4), schedule.At(4), 12);
    }

    [Fact]
    public void LearningRate_MayBeASchedule()
    {
        var config = ParseOk("""
        {"type": "SGD", "learning_rate": {"class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.96, "staircase": true, "name": "ExponentialDecay"}}}
        """);
        Assert.IsType<ExponentialDecay>(config.Schedule);
        Assert.Equal(0.1, config.InitialLearningRate);
    }

    [Fact]
    public void UnknownOptimizer_ListsAcceptedNames()
    {
        var e = Assert.Single(ParseErrors("\"adamm\""));
        Assert.Equal("compile.optimizer", e.Path);
        Assert.Contains("Adam", e.Message);
        Assert.Contains("RMSprop", e.Message);
        Assert.Equal("compile.optimizer.type", Assert.Single(ParseErrors("""{"type": "Foo"}""")).Path);
    }

    [Fact]
    public void BadKeys_NamePaths()
    {
        Assert.Contains(ParseErrors("""{"type": "Adam", "learning_rate": -1}"""), e => e.Path == "compile.optimizer.learning_rate");
        Assert.Contains(ParseErrors("""{"type": "Adam", "momentum": 0.9}"""), e => e.Path == "compile.optimizer.momentum" && e.Message.Contains("beta_1"));
        Assert.Contains(ParseErrors("""{"class_name": "Adam", "config": {"beta_1": "x"}}"""), e => e.Path == "compile.optimizer.config.beta_1");
        Assert.Contains(ParseErrors("""{"type": "SGD", "learning_rate": {"type": "Nope"}}"""), e => e.Path == "compile.optimizer.learning_rate" && e.Message.Contains("CosineDecay"));
        Assert.Contains(ParseErrors("""{"type": "SGD", "use_ema": true}"""), e => e.Path == "compile.optimizer.use_ema");
        Assert.Contains(ParseErrors("""{"type": "SGD", "clipnorm": 1, "clipvalue": 1}"""), e => e.Path == "compile.optimizer");
        Assert.Contains(ParseErrors("""{"type": "SGD", "learning_rate": {"type": "PiecewiseConstantDecay", "boundaries": [10], "values": [0.1]}}"""),
            e => e.Path == "compile.optimizer.learning_rate.values");
    }
}
