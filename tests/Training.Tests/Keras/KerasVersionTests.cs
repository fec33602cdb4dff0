using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Activations;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Layers;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Keras;

/// <summary>Meanings that depend on the Keras that wrote the file, the file's compile settings, and what is accepted silently.</summary>
public class KerasVersionTests
{
    private static TrainingPlan Plan(KerasConversion c, string compile = """{"loss": "mse"}""") =>
        TrainingPlan.Parse(JsonSerializer.SerializeToElement(c.Model), SpecFiles.Json(compile), null);

    [Fact]
    public void StandaloneKeras224_UsesItsDefaultsAndItsHardSigmoid()
    {
        var conversion = KerasImporter.Convert(KerasCorpusTests.Load("k2_224_standalone_recurrent.json"));
        var layers = Plan(conversion).Model.Layers.Select(l => l.Layer).ToArray();
        Assert.Equal(ActivationRegistry.HardSigmoidKeras2, Assert.IsType<LSTM>(layers[0]).RecurrentActivation);
        var gru = Assert.IsType<GRU>(layers[1]);
        Assert.False(gru.ResetAfter);
        Assert.Equal(ActivationRegistry.HardSigmoidKeras2, gru.RecurrentActivation);
        Assert.Equal(ActivationRegistry.HardSigmoidKeras2, Assert.IsType<Dense>(layers[3]).Activation);
        Assert.Contains(conversion.Notes, n => n.Contains("reset_after: absent; Keras 2.2.4's default false"));
        Assert.Contains(conversion.Notes, n => n.Contains("recurrent_activation: absent; Keras 2.2.4's default hard_sigmoid"));
        Assert.Contains(conversion.Notes, n => n.Contains("layers[3].config.activation: hard_sigmoid in a Keras 2.2.4 file is clip(0.2x + 0.5, 0, 1)"));
        Assert.Contains(conversion.Notes, n => n.Contains("restore_best_weights"));
    }

    [Theory]
    [InlineData("2.3.1", "sigmoid", false)]
    [InlineData("2.2.4-tf", "sigmoid", true)]
    [InlineData("2.4.0", "sigmoid", true)]
    [InlineData("2.1.6", "hard_sigmoid_keras2", false)]
    public void MissingRecurrentDefaults_FollowTheWritingVersion(string version, string recurrentActivation, bool resetAfter)
    {
        var doc = """
            {"class_name": "Sequential", "keras_version": "VERSION", "config": {"name": "s", "layers": [
              {"class_name": "GRU", "config": {"units": 2, "batch_input_shape": [null, 5, 3]}}]}}
            """.Replace("VERSION", version);
        var gru = Assert.IsType<GRU>(Plan(KerasImporter.Convert(SpecFiles.Json(doc))).Model.Layers[0].Layer);
        Assert.Equal(recurrentActivation, gru.RecurrentActivation);
        Assert.Equal(resetAfter, gru.ResetAfter);
    }

    [Fact]
    public void Keras3HardSigmoid_KeepsTheKeras3Formula()
    {
        var doc = """
            {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": "float32", "name": "in"}, "registered_name": null},
              {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2, "activation": "hard_sigmoid"}, "registered_name": null}]}, "registered_name": null}
            """;
        var conversion = KerasImporter.Convert(SpecFiles.Json(doc));
        Assert.Equal("hard_sigmoid", Assert.IsType<Dense>(Plan(conversion).Model.Layers[0].Layer).Activation);
        Assert.DoesNotContain(conversion.Notes, n => n.Contains("restore_best_weights"));
    }

    [Fact]
    public void Keras3CompileConfig_IsUsedAsNativeCompile()
    {
        var conversion = KerasImporter.Convert(KerasCorpusTests.Load("k3_sequential_cnn.json"));
        Assert.NotNull(conversion.Compile);
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(conversion.Model), JsonSerializer.SerializeToElement(conversion.Compile), null);
        Assert.Equal("sparse_categorical_crossentropy", plan.Compile.Outputs[0].LossName);
        Assert.Equal("Adam", plan.Compile.Optimizer.GetType().Name);
    }

    [Fact]
    public void Keras3FunctionLossRecord_AndStringOptimizer_AreUsed()
    {
        var conversion = KerasImporter.Convert(KerasCorpusTests.Load("k3_functional_lstm.json"));
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(conversion.Model), JsonSerializer.SerializeToElement(conversion.Compile), null);
        Assert.Equal("binary_crossentropy", plan.Compile.Outputs[0].LossName);
    }

    [Fact]
    public void TfjsTrainingConfig_IsUsedAsNativeCompile_AndItsWeightsAreNoted()
    {
        var conversion = KerasImporter.Convert(KerasCorpusTests.Load("tfjs_layers_model.json"));
        var compile = conversion.Compile!;
        Assert.True(compile.ContainsKey("optimizer"));
        Assert.False(compile.ContainsKey("optimizer_config"));
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(conversion.Model), JsonSerializer.SerializeToElement(compile), null);
        Assert.Equal("categorical_crossentropy", plan.Compile.Outputs[0].LossName);
        Assert.Contains(conversion.Notes, n => n.Contains("weightsManifest are not read"));
    }

    [Fact]
    public void NamesModelTrainableAndFloat32Policies_AreAcceptedSilently()
    {
        var doc = """
            {"module": "keras", "class_name": "Sequential", "config": {"name": "whatever_name", "trainable": false,
              "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": "float32", "name": "in"}, "registered_name": null},
              {"module": "keras.layers", "class_name": "Dense", "config": {"name": "my_dense", "trainable": true, "units": 2,
                "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}}, "registered_name": null}]},
             "registered_name": null, "build_config": {"input_shape": [null, 3]}}
            """;
        var conversion = KerasImporter.Convert(SpecFiles.Json(doc));
        Assert.Empty(conversion.Notes);
        Assert.Equal("my_dense", Plan(conversion).Model.Layers[0].Name);
    }

    [Fact]
    public void NativeInputPaths_MapToTheKerasInput()
    {
        var sequential = KerasImporter.Convert(KerasCorpusTests.Load("k2_tf24_sequential_mlp.json"));
        Assert.Equal("model.config.layers[0].config", sequential.ToKerasPath("model.input_shape"));
        var functional = KerasImporter.Convert(KerasCorpusTests.Load("k3_functional_merges.json"));
        Assert.Equal("model.config.layers[1].config", functional.ToKerasPath("model.inputs[1].shape"));
    }

    [Fact]
    public void ErrorPaths_FollowTheDocumentPath()
    {
        var doc = """{"class_name": "Sequential", "keras_version": "2.4.0", "config": {"layers": [{"class_name": "Dense", "config": {"units": 0, "batch_input_shape": [null, 3]}}]}}""";
        var e = Assert.Throws<TrainingService.Training.Specs.SpecException>(() => KerasImporter.Convert(SpecFiles.Json(doc), "run.model"));
        Assert.Equal("run.model.config.layers[0].config.units", e.Errors.Single().Path);
    }
}
