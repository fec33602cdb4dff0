using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Models;

public class ModelParserTests
{
    private const string Compile = """{"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}""";

    private static SpecException Refused(string model, string compile = Compile, string fit = "{}") =>
        Assert.Throws<SpecException>(() => SpecFiles.Plan(model, compile, fit));

    [Theory]
    [InlineData("mnist-mlp.json", 101_770)]
    [InlineData("cifar10-cnn.json", 42_442)]
    [InlineData("imdb-lstm.json", 1_411_713)]
    public void Summary_CountsParameters_AsKerasDoes(string example, long expected)
    {
        var plan = SpecFiles.Example(example);
        Assert.Equal(expected, plan.Summary.TotalParameters);
        Assert.Equal(expected, plan.Summary.TrainableParameters);
    }

    [Fact]
    public void Summary_GivesKerasOutputShapes_ForTheCnn()
    {
        var plan = SpecFiles.Example("cifar10-cnn.json");
        var shapes = plan.Summary.Layers.Select(l => string.Join("x", l.OutputShapes[0])).ToArray();
        Assert.Equal(["32x32x3", "30x30x32", "15x15x32", "13x13x64", "6x6x64", "2304", "10"], shapes);
        Assert.Equal(["input", "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense"],
            plan.Summary.Layers.Select(l => l.Name).ToArray());
    }

    [Fact]
    public void DenseOnAnImage_IsRefused_WithPathShapesAndFix()
    {
        var e = Refused("""
{"input_shape": [28, 28, 1], "layers": [{"type": "Conv2D", "filters": 32, "kernel_size": 3},
            {"type": "MaxPooling2D"}, {"type": "Dense", "units": 10, "activation": "softmax"}]}
""");
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[2]", error.Path);
        Assert.Contains("(Dense)", error.Message);
        Assert.Contains("(13, 13, 32)", error.Message);
        Assert.Contains("add Flatten", error.Message);
    }

    [Fact]
    public void UnknownLayerType_ListsAcceptedTypes()
    {
        var e = Refused("""{"input_shape": [4], "layers": [{"type": "Dense2", "units": 3}]}""");
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[0].type", error.Path);
        Assert.Contains("Dense", error.Message);
        Assert.Contains("Conv2D", error.Message);
    }

    [Fact]
    public void UnknownActivation_ListsAcceptedNames()
    {
        var e = Refused("""{"input_shape": [4], "layers": [{"type": "Dense", "units": 3, "activation": "rellu"}]}""");
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[0].activation", error.Path);
        Assert.Contains("relu", error.Message);
    }

    [Fact]
    public void UnknownKey_ListsAcceptedKeys()
    {
        var e = Refused("""{"input_shape": [4], "layers": [{"type": "Dense", "unit": 3}]}""");
        Assert.Contains(e.Errors, x => x.Path == "model.layers[0].unit" && x.Message.Contains("units"));
        Assert.Contains(e.Errors, x => x.Path == "model.layers[0].units" && x.Message.Contains("required"));
    }

    [Fact]
    public void OutOfRangeValues_AreRefused_WithTheirPaths()
    {
        var e = Refused("""{"input_shape": [4], "layers": [{"type": "Dense", "units": 0}, {"type": "Dropout", "rate": 1.5}]}""");
        Assert.Contains(e.Errors, x => x.Path == "model.layers[0].units" && x.Message.Contains(">= 1"));
        Assert.Contains(e.Errors, x => x.Path == "model.layers[1].rate");
    }

    [Fact]
    public void MissingInputShape_SaysHowToGiveIt()
    {
        var e = Refused("""{"layers": [{"type": "Dense", "units": 3}]}""");
        Assert.Contains(e.Errors, x => x.Path == "model.input_shape" && x.Message.Contains("InputLayer"));
    }

    [Fact]
    public void TooManyParameters_IsRefused_AgainstTheLimit()
    {
        var e = Assert.Throws<SpecException>(() => TrainingService.Training.Engine.TrainingPlan.Parse(
            SpecFiles.Json("""{"input_shape": [1000], "layers": [{"type": "Dense", "units": 100000}]}"""),
            SpecFiles.Json(Compile), null, new TrainingService.Training.Engine.EngineLimits { MaxParameters = 1_000_000 }));
        Assert.Contains(e.Errors, x => x.Path == "model.layers" && x.Message.Contains("limit"));
    }

    [Fact]
    public void Functional_BranchesAndMerges_InferShapes()
    {
        var plan = SpecFiles.Plan("""
            {"inputs": [{"name": "a", "shape": [8]}, {"name": "b", "shape": [4]}],
             "layers": [{"type": "Dense", "name": "da", "units": 16, "inputs": "a"},
                        {"type": "Dense", "name": "db", "units": 16, "inputs": ["b"]},
                        {"type": "Dense", "name": "out", "units": 1, "activation": "sigmoid", "inputs": ["da"]}],
             "outputs": ["out"]}
            """, """{"optimizer": "adam", "loss": "binary_crossentropy"}"""
);
        Assert.Equal(["a", "b"], plan.InputNames);
        Assert.Equal([1], plan.OutputShapes[0]);
    }

    [Fact]
    public void Functional_UnknownInputReference_NamesTheKnownOnes()
    {
        var e = Refused(
"""
            {"inputs": [{"name": "a", "shape": [8]}],
             "layers": [{"type": "Dense", "name": "d", "units": 4, "inputs": "nope"}], "outputs": ["d"]}
            """
);
        var error = Assert.Single(e.Errors);
        Assert.Equal("model.layers[0].inputs", error.Path);
        Assert.Contains("\"nope\" is not an input or an earlier layer; known: a", error.Message);
    }

    [Fact]
    public void DuplicateLayerNames_AreRefused()
    {
        var e = Refused(
"""{"input_shape": [4], "layers": [{"type": "Dense", "name": "x", "units": 3}, {"type": "Dense", "name": "x", "units": 3}]}""");
        Assert.Contains(e.Errors, x => x.Path == "model.layers[1].name");
    }
}
