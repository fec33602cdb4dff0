using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>
/// A Keras layer's config: its public init properties are Keras's config keys (snake_case, Keras's defaults).
/// Each layer infers its output shapes from its input shapes (Keras order, no batch dimension), counts its parameters
/// without allocating them, and builds the TorchSharp module that computes it. Adding a layer means adding one
/// subclass in its own file; <see cref="LayerRegistry"/> finds it.
/// </summary>
public abstract record Layer
{
    /// <summary>The layer's name in the model (unique; the parser assigns Keras-style names when none is given).</summary>
    [NotConfig] public string Name { get; init; } = "";

    /// <summary>Keras's <c>trainable</c>: a frozen layer's weights get no gradient and no optimizer slots (they stay
    /// bit-for-bit as they were), and a frozen BatchNormalization normalizes with its moving statistics.</summary>
    public bool Trainable { get; init; } = true;

    public virtual int MinInputs => 1;
    public virtual int MaxInputs => 1;

    /// <summary>The output shapes for these inputs, or a <see cref="ShapeException"/> saying what is expected.</summary>
    public abstract Shape[] OutputShapes(Shape[] inputs);

    /// <summary>Trainable plus non-trainable parameter counts, computed without allocating anything (as if the layer
    /// were trainable; <see cref="ParameterCounts"/> applies <see cref="Trainable"/>).</summary>
    public virtual (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) => (0, 0);

    /// <summary>The counts Keras's summary reports: a frozen layer's weights are all non-trainable.</summary>
    public (long Trainable, long NonTrainable) ParameterCounts(Shape[] inputs)
    {
        var (t, nt) = CountParameters(inputs);
        return Trainable ? (t, nt) : (0, t + nt);
    }

    /// <summary>The module computing this layer, its weights initialised as Keras initialises them.</summary>
    public abstract LayerModule Build(Shape[] inputs, BuildContext context);

    /// <summary>Checks across keys that a single key's reader cannot make (paths relative to the layer).</summary>
    public virtual IEnumerable<SpecError> Validate(string path) => [];

    /// <summary>Whether the layer reads integer indices (Embedding): a model input it reads is then int64.</summary>
    public virtual bool TakesIndices => false;

    /// <summary>Whether a mask on the input (from Embedding mask_zero) still applies to the output.</summary>
    public virtual bool KeepsMask => false;

    protected static ShapeException Expects(string what, Shape got, string? fix = null) =>
        new($"expects {what}, got {got}{(fix is null ? "" : "; " + fix)}");

    protected static void RequireRank(Shape input, int rank, string? fix = null)
    {
        if (input.Rank != rank)
            throw Expects($"a {rank}-D input", input, fix ?? (input.Rank > rank ? "add Flatten or a pooling layer" : "add Reshape"));
    }
}
