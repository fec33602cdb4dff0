using System.Text.Json;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Tests;

public static class TestData
{
    /// <summary>A run row as the API would have written it, for tests of what happens after submission.</summary>
    public static Run QueuedRun(string? name = null, int epochs = 3) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = name,
        Status = RunStatus.Queued,
        CreatedAt = DateTimeOffset.UtcNow,
        EpochsPlanned = epochs,
        SpecJson = """{"dataset":{"name":"digits"},"model":{"input_shape":[64],"layers":[{"type":"Dense","units":10,"activation":"softmax"}]}}""",
    };

    public static long JobCount(this ServiceFactory factory)
    {
        var stats = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi().GetStatistics();
        return stats.Enqueued + stats.Processing + stats.Succeeded + stats.Failed + stats.Scheduled + stats.Deleted;
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string[] ErrorKeys(this JsonElement problem) =>
        problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
}
