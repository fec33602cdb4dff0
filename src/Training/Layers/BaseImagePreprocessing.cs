using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>What Keras's image preprocessing layers share (<c>BaseImagePreprocessingLayer</c>): channels-last
/// (H, W, C) images, <c>data_format</c>, and <c>bounding_box_format</c> (read; only images flow through a model here).
/// The random layers draw from the run's generator (<c>seed</c> is read and left to the run's seed).</summary>
public abstract record BaseImagePreprocessing : Layer
{
    [OneOf("channels_last")] public string DataFormat { get; init; } = "channels_last";
    public string? BoundingBoxFormat { get; init; }

    /// <summary>An (H, W, C) image in, the same shape out: what the augmentation layers do; the resizing ones override.</summary>
    public override Shape[] OutputShapes(Shape[] inputs)
    {
        RequireImage(inputs[0]);
        return [inputs[0]];
    }

    /// <summary>Checks an (H, W, C) input, with known H and W when <paramref name="knownSize"/>.</summary>
    protected void RequireImage(Shape x, bool knownSize = false)
    {
        RequireRank(x, 3, x.Rank == 2 ? "add Reshape to (H, W, 1)" : null);
        if (knownSize && (x[0] < 0 || x[1] < 0)) throw Expects("images of a known height and width", x);
    }
}
