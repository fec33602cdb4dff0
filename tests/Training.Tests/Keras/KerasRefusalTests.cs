using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Keras;

/// <summary>What cannot be honoured exactly is refused, one error per item, at its path in the Keras document.</summary>
public class KerasRefusalTests
{
    private static string Sequential(string layers, string version = "\"keras_version\": \"2.4.0\", ") =>
        """{"class_name": "Sequential", """ + version + "\"config\": {\"name\": \"s\", \"layers\": [" + layers + "]}}";

    private const string Input = """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "in"}}""";

    private static IReadOnlyList<SpecError> Errors(string document)
    {
        var e = Assert.Throws<SpecException>(() => KerasImporter.Convert(SpecFiles.Json(document)));
        return e.Errors;
    }

    private static void Refused(string document, string path, string reason)
    {
        var errors = Errors(document);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void UnsupportedLayer_IsRefusedAtItsClassName() =>
        Refused(Sequential(Input + """, {"class_name": "ConvLSTM2D", "config": {"filters": 2, "kernel_size": [3, 3]}}"""),
            "model.config.layers[1].class_name", "layer \"ConvLSTM2D\" is not supported; supported layers: Activation, ActivityRegularization, Add");

    [Fact]
    public void Keras3CustomLayer_IsRefusedAtItsRegisteredName() =>
        Refused("""
            {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4], "dtype": "float32", "name": "in"}, "registered_name": null},
              {"module": "my_layers", "class_name": "Gate", "config": {"units": 2}, "registered_name": "MyPackage>Gate"}]}, "registered_name": null}
            """, "model.config.layers[1].registered_name", "\"MyPackage>Gate\" is a custom object");

    [Fact]
    public void CustomModule_IsRefusedAtItsModule() =>
        Refused(Sequential(Input + """, {"module": "research.layers", "class_name": "Dense", "config": {"units": 2}, "registered_name": null}"""),
            "model.config.layers[1].module", "is a custom object");

    [Fact]
    public void CustomActivationObject_IsRefused() =>
        Refused(Sequential(Input + """, {"class_name": "Dense", "config": {"units": 2, "activation": {"module": "mine", "class_name": "Swoosh", "config": {}}}}"""),
            "model.config.layers[1].config.activation", "custom activation object");

    [Fact]
    public void SubclassedModel_IsRefused() =>
        Refused("""{"class_name": "MyModel", "config": {}, "keras_version": "2.4.0"}""", "model.class_name", "a model of class \"MyModel\" cannot be rebuilt from JSON");

    [Fact]
    public void Keras1File_IsRefusedAtItsVersion() =>
        Refused(Sequential("""{"class_name": "Dense", "config": {"output_dim": 2, "init": "glorot_uniform", "batch_input_shape": [null, 4]}}""", "\"keras_version\": \"1.2.2\", "),
            "model.keras_version", "Keras 1.2.2 files use Keras 1 config keys");

    [Fact]
    public void Keras1Keys_WithoutAVersion_AreRefused() =>
        Refused(Sequential("""{"class_name": "Dense", "config": {"output_dim": 2, "init": "glorot_uniform", "batch_input_shape": [null, 4]}}""", ""),
            "model.config.layers[0].config", "Keras 1 config keys");

    [Fact]
    public void MixedPrecisionPolicy_IsRefused() =>
        Refused(Sequential(Input + """, {"class_name": "Dense", "config": {"units": 2, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}}}"""),
            "model.config.layers[1].config.dtype", "dtype \"mixed_float16\" is not supported");

    [Fact]
    public void SparseInput_IsRefused() =>
        Refused(Sequential("""{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "dtype": "float32", "sparse": true, "name": "in"}}, {"class_name": "Dense", "config": {"units": 2}}""", ""),
            "model.config.layers[0].config.sparse", "sparse inputs are not supported");

    [Fact]
    public void QuantizedLayer_IsRefused() =>
        Refused(Sequential(Input + """, {"class_name": "Dense", "config": {"units": 2, "quantization_config": {"class_name": "Int8QuantizationConfig", "config": {}}}}"""),
            "model.config.layers[1].config.quantization_config", "quantized layers are not supported");

    [Fact]
    public void UnsupportedOption_OfASupportedLayer_IsRefusedAtItsKeyInTheKerasDocument()
    {
        var errors = Errors(Sequential("""
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 4], "dtype": "float32", "name": "in"}},
            {"class_name": "LSTM", "config": {"units": 2, "stateful": true, "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2}}}},
            {"class_name": "Dense", "config": {"units": 2, "fancy": 1}}
            """));
        Assert.Contains(errors, e => e.Path == "model.config.layers[1].config.stateful" && e.Message.Contains("stateful recurrent layers are not supported"));
        Assert.Contains(errors, e => e.Path == "model.config.layers[1].config.kernel_constraint" && e.Message.Contains("weight constraints are not supported"));
        Assert.Contains(errors, e => e.Path == "model.config.layers[2].config.fancy" && e.Message.Contains("unknown key"));
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void ChannelsFirst_IsRefusedAtDataFormat() =>
        Refused(Sequential("""
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 8, 8], "dtype": "float32", "name": "in"}},
            {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [3, 3], "data_format": "channels_first"}}
            """), "model.config.layers[1].config.data_format", "\"channels_first\" is not accepted");

    private static string Functional(string layers, string inputs = "[[\"in\", 0, 0]]", string outputs = "[[\"d\", 0, 0]]") => $$$$"""
        {"class_name": "Functional", "keras_version": "2.9.0", "config": {"name": "f", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "in"}, "name": "in", "inbound_nodes": []},
          {{{{layers}}}}], "input_layers": {{{{inputs}}}}, "output_layers": {{{{outputs}}}}}}
        """;

    [Fact]
    public void SharedLayer_IsRefusedAtItsInboundNodes() =>
        Refused(Functional("""{"class_name": "Dense", "config": {"units": 4}, "name": "d", "inbound_nodes": [[["in", 0, 0, {}]], [["in", 0, 0, {}]]]}"""),
            "model.config.layers[1].inbound_nodes", "the layer is called 2 times (a shared layer)");

    [Fact]
    public void CallWithATrainingFlag_IsRefused() =>
        Refused(Functional("""{"class_name": "Dropout", "config": {"rate": 0.5}, "name": "d", "inbound_nodes": [[["in", 0, 0, {"training": true}]]]}"""),
            "model.config.layers[1].inbound_nodes[0][0][3].training", "a call with a fixed training flag is not supported");

    [Fact]
    public void ReferenceToAnUnknownLayer_IsRefused() =>
        Refused(Functional("""{"class_name": "Dense", "config": {"units": 4}, "name": "d", "inbound_nodes": [[["nowhere", 0, 0, {}]]]}"""),
            "model.config.layers[1].inbound_nodes", "reads \"nowhere\" (tensor 0), which is not a layer output of this model");

    [Fact]
    public void ShapeError_IsReportedAtTheKerasLayer() =>
        Refused(Functional("""{"class_name": "LSTM", "config": {"units": 4}, "name": "d", "inbound_nodes": [[["in", 0, 0, {}]]]}"""),
            "model.config.layers[1]", "(LSTM) expects a sequence input (timesteps, features)");

    [Fact]
    public void EveryRefusal_IsReportedAtOnce()
    {
        var errors = Errors(Sequential(Input + """, {"class_name": "ConvLSTM2D", "config": {}}, {"class_name": "Dense", "config": {"units": 2, "dtype": "float64"}}, """
            + """{"class_name": "Dense", "config": {"units": 2, "quantization_config": {"mode": "int8"}}}"""));
        Assert.Equal(["model.config.layers[1].class_name", "model.config.layers[2].config.dtype", "model.config.layers[3].config.quantization_config"],
            errors.Select(e => e.Path).ToArray());
    }

    [Fact]
    public void ExportOfKeras2HardSigmoid_IsRefused()
    {
        var conversion = KerasImporter.Convert(KerasCorpusTests.Load("k2_224_standalone_recurrent.json"));
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(conversion.Model), SpecFiles.Json("""{"loss": "mse"}"""), null);
        var e = Assert.Throws<SpecException>(() => KerasExporter.Export(plan.Model));
        Assert.Contains(e.Errors, x => x.Path == "model.config.layers[1].config.recurrent_activation" && x.Message.Contains("no Keras 3 equivalent"));
        Assert.Contains(e.Errors, x => x.Path == "model.config.layers[4].config.activation" && x.Message.Contains("no Keras 3 equivalent"));
    }
}
