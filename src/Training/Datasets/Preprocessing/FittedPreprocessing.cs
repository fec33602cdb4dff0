using System.Text.Json;
using System.Text.Json.Serialization;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// Everything a run's data preparation learned from its training split (scales, statistics, vocabulary, category
/// maps, imputation values, class names, shapes). It is stored with the trained model (<see cref="ToJson"/>) so that
/// prediction applies exactly the transform used in training: <see cref="PrepareInstances"/> turns raw examples into
/// model inputs and <see cref="Interpret"/> turns model outputs into classes.
/// </summary>
public sealed record FittedPreprocessing
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public int Version { get; init; } = 1;
    public required string Dataset { get; init; }
    public required DatasetKind Kind { get; init; }
    public required IReadOnlyList<FittedInput> Inputs { get; init; }
    public required IReadOnlyList<FittedTarget> Targets { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static FittedPreprocessing FromJson(string json) =>
        JsonSerializer.Deserialize<FittedPreprocessing>(json, JsonOptions)
        ?? throw new JsonException("Empty preprocessing record.");

    public IBatchTransform CreateTransform() => new FittedBatchTransform(Inputs);

    /// <summary>What the prepared data feeds a model (shapes after preprocessing).</summary>
    public DataSignature Signature => new(
        Inputs.Select(i => new InputSignature(i.Shape, i.IsInteger)).ToArray(),
        Targets.Select(t => t.IsClass
            ? t.OneHot
                ? new TargetSignature([t.ClassNames!.Count], false, t.ClassNames.Count)
                : new TargetSignature([], true, t.ClassNames!.Count)
            : new TargetSignature([1], false, null)).ToArray());

    /// <summary>Turns a JSON array of raw instances into model inputs (one float32/int64 tensor per input).
    /// Throws <see cref="Specs.SpecException"/> naming the instance (<c>instances[3]</c>) and the expected form.</summary>
    public Tensor[] PrepareInstances(JsonElement instances) => Transform(InstanceConverter.ToRaw(this, instances));

    /// <summary>Instances already read into dense buffers, one per input in model order, in the stored (raw) units
    /// and shaped like a stored example or like the model input. Throws <see cref="Specs.SpecException"/> at
    /// <paramref name="paths"/>[k] when input k has the wrong shape or values.</summary>
    public Tensor[] PrepareDense(IReadOnlyList<DenseInput> inputs, IReadOnlyList<string> paths) =>
        Transform(InstanceConverter.DenseToRaw(this, inputs, paths));

    private Tensor[] Transform(Tensor[] raw)
    {
        try
        {
            using var rng = new Generator(0);
            return CreateTransform().Apply(raw, training: false, rng);
        }
        finally
        {
            foreach (var t in raw) t.Dispose();
        }
    }

    /// <summary>The instances as an <see cref="ArrayDataset"/> in stored form with this transform attached (no
    /// targets), for an engine whose Predict applies <see cref="ArrayDataset.Transform"/> itself.</summary>
    public ArrayDataset InstancesToDataset(JsonElement instances) =>
        new(InstanceConverter.ToRaw(this, instances), [], CreateTransform());

    /// <summary>Raw image bytes (PNG, JPEG, …) as prediction instances for an image model.</summary>
    public Tensor[] PrepareImages(IReadOnlyList<byte[]> images)
    {
        var raw = InstanceConverter.ImagesToRaw(this, images);
        try
        {
            using var rng = new Generator(0);
            return CreateTransform().Apply(raw, training: false, rng);
        }
        finally
        {
            foreach (var t in raw) t.Dispose();
        }
    }

    /// <summary>Maps model outputs (one tensor per output, first dimension = instance) to predictions.</summary>
    public IReadOnlyList<InstancePrediction> Interpret(IReadOnlyList<Tensor> outputs) => OutputInterpreter.Interpret(this, outputs);
}
