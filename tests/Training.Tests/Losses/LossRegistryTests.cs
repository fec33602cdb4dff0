using System.Text.Json;
using TrainingService.Training.Engine;
using TrainingService.Training.Losses;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Tests.Losses;

public class LossRegistryTests
{
    private static (string Name, Loss Loss) Ok(string json)
    {
        var errors = new List<SpecError>();
        var result = LossRegistry.Parse(JsonDocument.Parse(json).RootElement, "compile.loss", errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return result!.Value;
    }

    private static List<SpecError> Errors(string json)
    {
        var errors = new List<SpecError>();
        Assert.Null(LossRegistry.Parse(JsonDocument.Parse(json).RootElement, "compile.loss", errors));
        return errors;
    }

    [Theory]
    [InlineData("\"categorical_crossentropy\"", typeof(CategoricalCrossentropy), "categorical_crossentropy")]
    [InlineData("\"mse\"", typeof(MeanSquaredError), "mse")]
    [InlineData("\"MSE\"", typeof(MeanSquaredError), "MSE")]
    [InlineData("\"mae\"", typeof(MeanAbsoluteError), "mae")]
    [InlineData("\"kld\"", typeof(KLDivergence), "kld")]
    [InlineData("\"BinaryCrossentropy\"", typeof(BinaryCrossentropy), "BinaryCrossentropy")]
    [InlineData("""{"module": "builtins", "class_name": "function", "config": "sparse_categorical_crossentropy", "registered_name": "function"}""",
        typeof(SparseCategoricalCrossentropy), "sparse_categorical_crossentropy")]
    [InlineData("""{"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy", "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": true, "ignore_class": null, "axis": -1}}""",
        typeof(SparseCategoricalCrossentropy), "sparse_categorical_crossentropy")]
    [InlineData("""{"type": "Huber", "delta": 2.0}""", typeof(Huber), "huber")]
    public void Forms_ResolveToLossAndLogName(string json, Type type, string name)
    {
        var (n, loss) = Ok(json);
        Assert.IsType(type, loss);
        Assert.Equal(name, n);
    }

    [Fact]
    public void ObjectKeys_AreBound()
    {
        Assert.True(((SparseCategoricalCrossentropy)Ok("""{"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": true}}""").Loss).FromLogits);
        Assert.Equal(0.1, ((CategoricalCrossentropy)Ok("""{"type": "CategoricalCrossentropy", "label_smoothing": 0.1}""").Loss).LabelSmoothing);
        Assert.Equal(2.0, ((Huber)Ok("""{"type": "Huber", "delta": 2.0}""").Loss).Delta);
    }

    [Fact]
    public void UnknownLoss_ListsAcceptedNames()
    {
        var e = Assert.Single(Errors("\"categorical_crossentropyy\""));
        Assert.Equal("compile.loss", e.Path);
        Assert.Contains("sparse_categorical_crossentropy", e.Message);
        Assert.Contains("huber", e.Message);
    }

    [Fact]
    public void UnsupportedKeys_NamePaths()
    {
        Assert.Contains(Errors("""{"type": "BinaryCrossentropy", "label_smoothing": 2}"""), e => e.Path == "compile.loss.label_smoothing");
        Assert.Contains(Errors("""{"class_name": "MeanSquaredError", "config": {"reduction": "sum"}}"""), e => e.Path == "compile.loss.config.reduction");
        Assert.Contains(Errors("""{"type": "Huber", "detla": 1}"""), e => e.Path == "compile.loss.detla" && e.Message.Contains("delta"));
    }

    [Fact]
    public void CheckTargets_CatchesLabelAndShapeMistakes()
    {
        var labels = new TargetSignature([], true, 10);
        var oneHot = new TargetSignature([10], false, 10);
        Assert.Empty(new SparseCategoricalCrossentropy().CheckTargets([10], labels));
        Assert.Contains("one-hot", Assert.Single(new SparseCategoricalCrossentropy().CheckTargets([10], oneHot)));
        Assert.Empty(new CategoricalCrossentropy().CheckTargets([10], oneHot));
        Assert.Empty(new CategoricalCrossentropy().CheckTargets([10], labels));
        Assert.Contains("classes", Assert.Single(new CategoricalCrossentropy().CheckTargets([5], labels)));
        Assert.Contains("sparse_categorical_crossentropy", Assert.Single(new BinaryCrossentropy().CheckTargets([10], labels)));
        Assert.Empty(new BinaryCrossentropy().CheckTargets([1], new TargetSignature([], true, 2)));
        Assert.Empty(new BinaryCrossentropy().CheckTargets([1], new TargetSignature([1], false, null)));
        Assert.NotEmpty(new BinaryCrossentropy().CheckTargets([1], new TargetSignature([], true, 5)));
        Assert.Empty(new MeanSquaredError().CheckTargets([3], new TargetSignature([3], false, null)));
        Assert.NotEmpty(new MeanSquaredError().CheckTargets([3], new TargetSignature([2], false, null)));
        Assert.NotEmpty(new SparseCategoricalCrossentropy().CheckTargets([1], new TargetSignature([], true, 2)));
    }
}
