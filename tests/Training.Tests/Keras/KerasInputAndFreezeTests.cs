using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Keras;

/// <summary>Keras files with a fixed batch axis or frozen layers convert: the batch size becomes a hint, and
/// <c>trainable: false</c> (on a layer or a whole nested model) is kept.</summary>
public class KerasInputAndFreezeTests
{
    private static string Sequential(string layers, string version = "\"keras_version\": \"2.4.0\", ") =>
        """{"class_name": "Sequential", """ + version + "\"config\": {\"name\": \"s\", \"layers\": [" + layers + "]}}";

    private static TrainingPlan Plan(KerasConversion c, string fit = "{}") =>
        TrainingPlan.Parse(JsonSerializer.SerializeToElement(c.Model), SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}"""), SpecFiles.Json(fit));

    [Fact]
    public void FixedBatchInputShape_BecomesTheDefaultBatchSize_WithANote()
    {
        var c = KerasImporter.Convert(SpecFiles.Json(Sequential("""{"class_name": "Dense", "config": {"units": 2, "batch_input_shape": [32, 4]}}""")));
        Assert.Equal(32, c.Model["batch_size"]!.GetValue<int>());
        Assert.Contains(c.Notes, n => n.Contains("fixed batch size of 32", StringComparison.Ordinal));
        var plan = Plan(c);
        Assert.Equal(32, plan.BatchSize);
        Assert.Equal([4], plan.InputShapes[0]);
        Assert.Contains(plan.Notes, n => n.Contains("last batch holds the rest and is trained on as it is", StringComparison.Ordinal));
    }

    [Fact]
    public void FixedBatchShape_OnAKeras3InputLayer_IsAHint_AndFitBatchSizeWins()
    {
        var c = KerasImporter.Convert(SpecFiles.Json(Sequential(
            """{"class_name": "InputLayer", "config": {"batch_shape": [16, 100], "dtype": "float32", "name": "in"}}, {"class_name": "Dense", "config": {"units": 2}}""", "")));
        Assert.Equal(16, Plan(c).BatchSize);
        var given = Plan(c, """{"batch_size": 8}""");
        Assert.Equal(8, given.BatchSize);
        Assert.Contains(given.Notes, n => n.Contains("fit.batch_size 8 is used instead", StringComparison.Ordinal));
    }

    [Fact]
    public void NativeInputLayer_WithBatchShape_SetsTheBatchSize()
    {
        var plan = TrainingPlan.Parse(SpecFiles.Json("""{"layers": [{"type": "InputLayer", "batch_shape": [32, 100]}, {"type": "Dense", "units": 1}]}"""),
            SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}"""), null);
        Assert.Equal(32, plan.BatchSize);
        Assert.Equal([100], plan.InputShapes[0]);
    }

    [Fact]
    public void FrozenLayer_IsKept_AndCountedAsNonTrainable()
    {
        var c = KerasImporter.Convert(SpecFiles.Json(Sequential(
            """{"class_name": "Dense", "config": {"name": "base", "units": 3, "trainable": false, "batch_input_shape": [null, 4]}}, {"class_name": "Dense", "config": {"name": "head", "units": 2}}""")));
        var summary = Plan(c).Summary;
        Assert.Equal(4 * 3 + 3 + 3 * 2 + 2, summary.TotalParameters);
        Assert.Equal(3 * 2 + 2, summary.TrainableParameters);
        Assert.Equal(4 * 3 + 3, summary.NonTrainableParameters);
        Assert.False(summary.Layers[1].Trainable);
    }

    [Fact]
    public void FrozenNestedModel_FreezesEveryLayerInside()
    {
        var backbone = """{"class_name": "Sequential", "config": {"name": "backbone", "trainable": false, "layers": [{"class_name": "Dense", "config": {"name": "a", "units": 3}}, {"class_name": "Dense", "config": {"name": "b", "units": 3}}]}}""";
        var c = KerasImporter.Convert(SpecFiles.Json(Sequential(
            """{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}}, """ + backbone + """, {"class_name": "Dense", "config": {"name": "head", "units": 2}}""", "")));
        var summary = Plan(c).Summary;
        Assert.Equal(3 * 2 + 2, summary.TrainableParameters);
        Assert.Equal(4 * 3 + 3 + 3 * 3 + 3, summary.NonTrainableParameters);
    }
}
