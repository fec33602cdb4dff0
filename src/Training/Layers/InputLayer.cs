using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras InputLayer: declares a model input. In a Sequential list it may stand first instead of
/// <c>input_shape</c>. <c>shape</c> excludes the batch axis; Keras's <c>batch_shape</c>/<c>batch_input_shape</c> include it
/// (null, or a fixed batch size that becomes the default <c>fit.batch_size</c>).</summary>
public sealed record InputLayer : Layer
{
    public int[]? Shape { get; init; }
    public int[]? BatchShape { get; init; }
    public int[]? BatchInputShape { get; init; }
    public int[]? InputShape { get; init; }
    public bool Sparse { get; init; }
    public bool Ragged { get; init; }

    public override int MinInputs => 0;
    public override int MaxInputs => 0;

    /// <summary>Keras's <c>Input(batch_size=…)</c>.</summary>
    [Range(1)] public int? BatchSize { get; init; }

    public int[]? ExampleShape => Shape ?? InputShape ?? (BatchShape ?? BatchInputShape)?[1..];

    /// <summary>The batch axis of <c>batch_shape</c> when it is fixed (a hint for <c>fit.batch_size</c>).</summary>
    public int? FixedBatchSize => BatchSize ?? ((BatchShape ?? BatchInputShape) is [> 0 and var b, ..] ? b : null);

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (ExampleShape is null) yield return new SpecError($"{path}.shape", "is required: the per-example shape, e.g. [28, 28]");
        if (Sparse) yield return new SpecError($"{path}.sparse", "sparse inputs are not supported");
        if (Ragged) yield return new SpecError($"{path}.ragged", "ragged inputs are not supported");
    }

    public override Layers.Shape[] OutputShapes(Layers.Shape[] inputs) => [new(ExampleShape!)];

    public override LayerModule Build(Layers.Shape[] inputs, BuildContext context) => throw new InvalidOperationException("inputs are not built");
}
