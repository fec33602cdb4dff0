using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Data;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

/// <summary>
/// PLACEHOLDER until the dataset catalog (issue 3, branch <c>datasets</c>) is merged: refuses every dataset with a
/// clear error instead of inventing data. Replaced by the catalog adapter; nothing else changes.
/// </summary>
public sealed class UnavailableDatasets : IDatasets
{
    private const string Why = "the dataset catalog is not part of this build yet";

    public IReadOnlyList<DatasetDescription> List() => [];

    public DatasetDescription? Describe(string name) => null;

    public DatasetCheck Check(JsonElement dataset, JsonElement? compile) =>
        DatasetCheck.Invalid(new SpecError("dataset", $"cannot resolve datasets: {Why}."));

    public PreparedData Prepare(JsonElement dataset, JsonElement? compile, CancellationToken cancellationToken) =>
        throw new SpecException("dataset", $"cannot load datasets: {Why}.");

    public ArrayDataset EncodeInstances(string preprocessingJson, TrainingPlan plan, JsonElement instances) =>
        throw new SpecException("instances", $"cannot encode instances: {Why}.");

    public IReadOnlyList<JsonObject> DecodeOutputs(string preprocessingJson, TrainingPlan plan, IReadOnlyList<TorchSharp.torch.Tensor> outputs) =>
        throw new NotSupportedException(Why);

    public Task<DatasetDescription> UploadCsvAsync(string name, Stream content, CancellationToken cancellationToken) =>
        throw new SpecException("file", $"cannot store uploads: {Why}.");
}
