using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingService.Api.Runs;

/// <summary>Body of <c>POST /api/runs</c>. <c>dataset</c>, <c>model</c>, <c>compile</c> and <c>fit</c> use the
/// engine's and the dataset catalog's formats; the name (optional) is the model name predictions resolve.</summary>
public sealed record SubmitRunRequest(
    string? Name,
    JsonElement Dataset,
    JsonElement Model,
    JsonElement? Compile,
    JsonElement? Fit);

/// <summary>A run as the API shows it.</summary>
public sealed record RunResponse(
    Guid Id,
    string? Name,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int EpochsCompleted,
    int EpochsPlanned,
    JsonElement? Metrics,
    int? BestEpoch,
    bool StoppedEarly,
    bool CancelRequested,
    int Attempts,
    string? Error,
    JsonElement? Summary,
    JsonElement? Spec);

/// <summary>A run in a listing: no spec, no summary; its dataset's name and model's parameter count from them.</summary>
public sealed record RunListItem(
    Guid Id,
    string? Name,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int EpochsCompleted,
    int EpochsPlanned,
    JsonElement? Metrics,
    string? Error,
    string? Dataset = null,
    long? Parameters = null,
    string? Role = null);

public sealed record RunPage(IReadOnlyList<RunListItem> Items, int Page, int PageSize, int Total);

/// <summary>One finished epoch: Keras's log keys flattened beside the epoch number, learning rate and seconds.</summary>
public sealed record EpochMetricResponse(int Epoch, double LearningRate, double DurationSeconds)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement> Logs { get; init; } = [];
}

/// <summary>Body of a predict call: raw examples, as the dataset stores them (see the dataset catalog).</summary>
public sealed record PredictRequest(JsonElement Instances);

public sealed record PredictResponse(Guid RunId, string? Model, IReadOnlyList<System.Text.Json.Nodes.JsonObject> Predictions);
