using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

/// <summary>
/// The seam between the service and the dataset catalog in <c>src/Training</c> (issue 3). Everything the API and
/// the jobs need from datasets goes through here, so that the catalog's own types stay behind one adapter.
/// Errors are <see cref="SpecError"/>s whose paths start with <c>dataset</c> (or <c>instances</c> for predictions).
/// </summary>
public interface IDatasets
{
    IReadOnlyList<DatasetDescription> List();

    DatasetDescription? Describe(string name);

    /// <summary>Checks a run's <c>dataset</c> choice without loading the examples: the name is known and the data
    /// can be had here, options are valid. Returns what the data will look like to the model, or errors.</summary>
    DatasetCheck Check(JsonElement dataset, JsonElement? compile);

    /// <summary>Loads and prepares the data for training (throws <see cref="SpecException"/> for bad data).</summary>
    PreparedData Prepare(JsonElement dataset, JsonElement? compile, CancellationToken cancellationToken);

    /// <summary>Turns raw prediction instances into model inputs with the preprocessing fitted at training time.
    /// Throws <see cref="SpecException"/> (paths <c>instances[i]…</c>) naming the expected shape.</summary>
    ArrayDataset EncodeInstances(string preprocessingJson, TrainingPlan plan, JsonElement instances);

    /// <summary>Turns model outputs into one JSON object per instance (<c>class</c>, <c>label</c>,
    /// <c>probabilities</c> for classifiers; raw values otherwise).</summary>
    IReadOnlyList<JsonObject> DecodeOutputs(string preprocessingJson, TrainingPlan plan, IReadOnlyList<TorchSharp.torch.Tensor> outputs);

    /// <summary>Stores an uploaded CSV under <paramref name="name"/> and reports its inferred columns.</summary>
    Task<DatasetDescription> UploadCsvAsync(string name, Stream content, CancellationToken cancellationToken);
}

/// <summary>Either a data signature or the errors that prevent one.</summary>
public sealed record DatasetCheck(DataSignature? Signature, IReadOnlyList<SpecError> Errors)
{
    public static DatasetCheck Invalid(params SpecError[] errors) => new(null, errors);
}

/// <summary>Prepared splits and what was learned from the training split (serialised, stored with the run).</summary>
public sealed record PreparedData(ArrayDataset Train, ArrayDataset? Test, string PreprocessingJson) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test?.Dispose();
    }
}

/// <summary>A dataset as the API lists it.</summary>
public sealed record DatasetDescription(
    string Name,
    string Kind,
    bool Available,
    string? Description,
    IReadOnlyDictionary<string, long>? Splits,
    IReadOnlyList<int[]>? InputShapes,
    IReadOnlyList<string>? Classes,
    JsonNode? Details,
    string? HowToInstall);
