using System.Text.Json;

namespace TrainingService.Api.Models;

/// <summary>A model name and the run that currently answers for it (its newest succeeded run).</summary>
public sealed record ModelResponse(string Name, Guid RunId, DateTimeOffset? TrainedAt, JsonElement? Metrics, int Versions);
