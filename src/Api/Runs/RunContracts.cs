using System.ComponentModel;
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

/// <summary>A run in a listing: no spec, no summary.</summary>
public record RunListItem
{
    public required Guid Id { get; init; }
    public string? Name { get; init; }
    /// <summary>One of the run statuses (see <see cref="RunStatuses"/>).</summary>
    [Description(RunStatuses.Description)]
    public required string Status { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int EpochsCompleted { get; init; }
    public int EpochsPlanned { get; init; }
    public JsonElement? Metrics { get; init; }
    public string? Error { get; init; }
}

/// <summary>A run as the API shows it: the listing's fields, the training outcome, the summary and the spec.</summary>
public sealed record RunResponse : RunListItem
{
    public int? BestEpoch { get; init; }
    public bool StoppedEarly { get; init; }
    public bool CancelRequested { get; init; }
    public int Attempts { get; init; }
    public JsonElement? Summary { get; init; }
    public JsonElement? Spec { get; init; }
}

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
