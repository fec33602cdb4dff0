using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Cropping2D on (H, W, C): <c>cropping</c> as an int (all sides), <c>[rows, cols]</c> (symmetric),
/// or <c>[[top, bottom], [left, right]]</c>.</summary>
public sealed record Cropping2D : Layer
{
    public Padding2D Cropping { get; init; } = new(0, 0, 0, 0);
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 3, x.Rank < 3 ? "add Reshape to (H, W, C)" : null);
        var c = Cropping;
        if (x[0] >= 0 && x[0] <= c.Top + c.Bottom || x[1] >= 0 && x[1] <= c.Left + c.Right)
            throw Expects($"more than {c.Top + c.Bottom} rows and {c.Left + c.Right} columns to crop", x);
        return [new Shape(x[0] < 0 ? -1 : x[0] - c.Top - c.Bottom, x[1] < 0 ? -1 : x[1] - c.Left - c.Right, x[2])];
    }

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Cropping);

    private sealed class Module(string name, Padding2D c) : UnaryModule(name)
    {
        public override Tensor Forward(Tensor input, ForwardContext context) =>
            input.narrow(1, c.Top, input.shape[1] - c.Top - c.Bottom).narrow(2, c.Left, input.shape[2] - c.Left - c.Right);
    }
}
