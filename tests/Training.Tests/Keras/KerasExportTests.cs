using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Keras;

public class KerasExportTests
{
    private static TrainingPlan Plan(JsonNode model) =>
        TrainingPlan.Parse(JsonSerializer.SerializeToElement(model), SpecFiles.Json("""{"loss": "mse"}"""), null);

    public static TheoryData<string> Exportable => new()
    {
        "k2_tf24_sequential_mlp.json", "k2_216_list_sequential.json", "k2_tf23_functional_cnn.json", "k3_sequential_cnn.json",
        "k3_functional_lstm.json", "k3_functional_merges.json", "k3_sequential_sequence_layers.json", "k3_sequential_image_layers.json",
        "k3_nested_sequential.json", "k2_tf24_bidirectional.json", "k2_213_nested_functional.json", "tfjs_layers_model.json", "k3_functional_bidirectional.json",
    };

    [Theory]
    [MemberData(nameof(Exportable))]
    public void ExportThenImport_GivesTheSameDefinition(string file)
    {
        var first = Plan(KerasImporter.Convert(KerasCorpusTests.Load(file)).Model);
        var exported = KerasExporter.Export(first.Model);
        var second = Plan(KerasImporter.Convert(JsonSerializer.SerializeToElement(exported)).Model);

        Assert.Equal(exported.ToJsonString(), KerasExporter.Export(second.Model).ToJsonString());
        Assert.Equal(first.Model.IsSequential, second.Model.IsSequential);
        Assert.Equal(Rows(first), Rows(second));
        Assert.Equal(first.Model.Inputs.Select(i => (i.Shape.ToString(), i.Dtype)), second.Model.Inputs.Select(i => (i.Shape.ToString(), i.Dtype)));
    }

    private static string[] Rows(TrainingPlan plan) =>
        plan.Summary.Layers.Select(l => $"{l.Name} {l.Type} {string.Join("|", l.OutputShapes.Select(s => string.Join(",", s)))} {l.Parameters}").ToArray();
}

public class KerasExportKeyTests
{
    /// <summary>For files Keras 3 wrote, the exported configs carry the keys Keras 3 wrote (extra keys would make
    /// model_from_json fail; missing ones would drop settings).</summary>
    [Theory]
    [InlineData("k3_sequential_cnn.json")]
    [InlineData("k3_functional_lstm.json")]
    [InlineData("k3_functional_merges.json")]
    [InlineData("k3_sequential_sequence_layers.json")]
    [InlineData("k3_sequential_image_layers.json")]
    [InlineData("k3_functional_bidirectional.json")]
    public void Export_WritesTheConfigKeysKeras3Writes(string file)
    {
        var original = JsonNode.Parse(File.ReadAllText(KerasCorpusTests.CorpusFile(file)))!;
        var plan = TrainingPlan.Parse(JsonSerializer.SerializeToElement(KerasImporter.Convert(KerasCorpusTests.Load(file)).Model), SpecFiles.Json("""{"loss": "mse"}"""), null);
        var exported = KerasExporter.Export(plan.Model);
        var a = Layers(original);
        var b = Layers(exported);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i]["class_name"]!.GetValue<string>(), b[i]["class_name"]!.GetValue<string>());
            Assert.Equal(Keys(a[i]), Keys(b[i]));
        }
    }

    private static List<JsonNode> Layers(JsonNode model) => model["config"]!["layers"]!.AsArray().Select(n => n!).ToList();

    private static string Keys(JsonNode layer)
    {
        var keys = layer["config"]!.AsObject().Select(p => p.Key).Where(k => k is not ("ragged" or "quantization_config")).Order();
        var nested = layer["config"]!["layer"] is JsonObject inner ? " / " + Keys(inner) : "";
        return string.Join(",", keys) + nested;
    }
}
