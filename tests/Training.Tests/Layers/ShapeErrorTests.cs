using TrainingService.Training.Layers;

namespace TrainingService.Training.Tests.Layers;

public class ShapeErrorTests
{
    [Fact]
    public void Conv2D_OnAFlatInput_SaysToAddReshape()
    {
        var layer = LayerTestKit.Parse("""{"type": "Conv2D", "filters": 8, "kernel_size": 3}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(784)]));
        Assert.Equal("expects a 3-D input, got (784,); add Reshape", error.Message);
    }

    [Fact]
    public void Dense_OnAnImage_SaysToAddFlatten()
    {
        // Keras would apply Dense per pixel; on image-shaped input that is nearly always a missing Flatten.
        var layer = LayerTestKit.Parse("""{"type": "Dense", "units": 10}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(13, 13, 32)]));
        Assert.Equal("expects a 1-D input (or a 2-D sequence), got (13, 13, 32); add Flatten or a global pooling layer before it", error.Message);
    }

    [Fact]
    public void Dense_OnASequence_AppliesToEachStep()
    {
        var layer = LayerTestKit.Parse("""{"type": "Dense", "units": 10}""");
        Assert.Equal(new Shape(7, 10), layer.OutputShapes([new Shape(7, 32)])[0]);
    }

    [Fact]
    public void Add_OfMismatchedShapes_NamesBothShapes()
    {
        var layer = LayerTestKit.Parse("""{"type": "Add"}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(4, 3), new Shape(4, 2)]));
        Assert.Contains("(4, 3) and (4, 2)", error.Message);
    }

    [Fact]
    public void Concatenate_OfMismatchedOtherAxes_NamesTheShapes()
    {
        var layer = LayerTestKit.Parse("""{"type": "Concatenate"}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(4, 3), new Shape(5, 2)]));
        Assert.Contains("(4, 3) and (5, 2)", error.Message);
    }

    [Fact]
    public void Reshape_ToTheWrongSize_SaysHowManyElementsItHas()
    {
        var layer = LayerTestKit.Parse("""{"type": "Reshape", "target_shape": [5, 5]}""");
        var error = Assert.Throws<ShapeException>(() => layer.OutputShapes([new Shape(4, 6)]));
        Assert.Contains("24 elements", error.Message);
        Assert.Equal(new Shape(3, 8), LayerTestKit.Parse("""{"type": "Reshape", "target_shape": [-1, 8]}""").OutputShapes([new Shape(4, 6)])[0]);
    }

    [Fact]
    public void Permute_WithZeroBasedDims_IsAConfigError()
    {
        var errors = LayerTestKit.ParseErrors("""{"type": "Permute", "dims": [0, 1]}""");
        Assert.Contains(errors, e => e.ToString().Contains("1-based"));
    }

    [Fact]
    public void Subtract_TakesExactlyTwoInputs()
    {
        var layer = LayerTestKit.Parse("""{"type": "Subtract"}""");
        Assert.Equal((2, 2), (layer.MinInputs, layer.MaxInputs));
    }

    [Fact]
    public void ZeroPadding2D_AcceptsKerasThreeForms()
    {
        Assert.Equal(new Shape(6, 8, 3), LayerTestKit.Parse("""{"type": "ZeroPadding2D", "padding": 2}""").OutputShapes([new Shape(2, 4, 3)])[0]);
        Assert.Equal(new Shape(4, 10, 3), LayerTestKit.Parse("""{"type": "ZeroPadding2D", "padding": [1, 3]}""").OutputShapes([new Shape(2, 4, 3)])[0]);
        Assert.NotEmpty(LayerTestKit.ParseErrors("""{"type": "ZeroPadding2D", "padding": [1, 2, 3]}"""));
    }
}
