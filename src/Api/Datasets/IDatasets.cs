using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

/// <summary>
/// The seam between the service and the dataset catalog in <c>src/Training</c>. Everything the API and
/// the jobs need from datasets goes through here, so the catalog's own types stay behind one adapter
/// (<see cref="CatalogDatasets"/>). Problems are <see cref="SpecException"/>s whose paths start with
/// <c>dataset</c> (or <c>instances</c> for predictions).
/// </summary>
public interface IDatasets
{
    IReadOnlyList<DatasetDescription> List();

    DatasetDescription? Describe(string name);

    /// <summary>Checks a run's <c>dataset</c> choice without loading the examples: the name is known, the data can
    /// be had here, the options are valid. Returns what the data will look like to the model, or errors.</summary>
    DatasetCheck Check(JsonElement dataset);

    /// <summary>Loads and prepares the data for training (throws <see cref="SpecException"/> for bad or missing data).
    /// <paramref name="fitOn"/> picks the training examples the preprocessing is fitted on (a fold's own part).</summary>
    PreparedData Prepare(JsonElement dataset, CancellationToken cancellationToken, FitOn? fitOn = null);

    /// <summary>Examples [offset, offset+count) of an image dataset's split as stored (pixels, label), for looking at;
    /// throws <see cref="SpecException"/> (paths <c>name</c>, <c>split</c>) for a dataset that is not images or not here.</summary>
    Task<IReadOnlyList<DatasetSample>> SamplesAsync(string name, string split, int offset, int count, CancellationToken cancellationToken);

    /// <summary>Stores an uploaded CSV (once, by content) and reports its inferred columns; the description's
    /// name is what a run puts in <c>dataset.name</c>.</summary>
    Task<DatasetDescription> UploadCsvAsync(byte[] content, CancellationToken cancellationToken);
}

/// <summary>Raw instances in, model inputs out; model outputs in, readable predictions out.</summary>
public interface IPredictionCodec
{
    /// <summary>Throws <see cref="SpecException"/> (paths <c>instances[i]…</c>) naming the expected form.</summary>
    ArrayDataset Encode(JsonElement instances);

    /// <summary>Instances already read into dense buffers (one per input, model order); errors at <paramref name="paths"/>.</summary>
    ArrayDataset EncodeDense(IReadOnlyList<DenseInput> inputs, IReadOnlyList<string> paths);

    /// <summary>The model's inputs as the stored data has them (name, raw shape and type): what dense instances must match.</summary>
    IReadOnlyList<FittedInput> Inputs { get; }

    /// <summary>Encoded image files (PNG, JPEG, …) for an image model.</summary>
    ArrayDataset EncodeImages(IReadOnlyList<byte[]> images);

    /// <summary>One object per instance: <c>class</c>, <c>label</c> and <c>probabilities</c> for classifiers,
    /// <c>values</c> otherwise; several outputs are keyed by output name under <c>outputs</c>.</summary>
    IReadOnlyList<JsonObject> Decode(IReadOnlyList<TorchSharp.torch.Tensor> outputs);
}

/// <summary>Either a data signature or the errors that prevent one.</summary>
public sealed record DatasetCheck(DataSignature? Signature, IReadOnlyList<SpecError> Errors)
{
    public static DatasetCheck Invalid(IReadOnlyList<SpecError> errors) => new(null, errors);
}

/// <summary>Prepared splits and what was learned from the training split (serialised, stored with the run).
/// <paramref name="ClassNames"/> names the classes of the first target when it holds class labels.</summary>
public sealed record PreparedData(ArrayDataset Train, ArrayDataset? Test, string PreprocessingJson, IDisposable Owner,
    IReadOnlyList<string>? ClassNames = null) : IDisposable
{
    public void Dispose() => Owner.Dispose();
}

/// <summary>One stored example: its position in the split, label, and pixels (H, W, C order, 0-255).</summary>
public sealed record DatasetSample(int Index, int Label, string LabelName, int[] Shape, float[] Values);

/// <summary>A dataset as the API lists it.</summary>
public sealed record DatasetDescription(
    string Name,
    string Kind,
    bool Available,
    string? Description,
    IReadOnlyDictionary<string, long?>? Splits,
    int[]? InputShape,
    string? InputDtype,
    IReadOnlyList<string>? Classes,
    JsonNode? Columns,
    string? HowToInstall,
    string? License);
