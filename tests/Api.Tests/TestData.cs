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

    /// <summary>Waits until the job server runs and holds no job (every executor has returned), so that a count
    /// taken afterwards sees all an executor will ever write.</summary>
    public static async Task WaitForIdleJobsAsync(this ServiceFactory factory, TimeSpan timeout)
    {
        var monitoring = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var stats = monitoring.GetStatistics();
            if (stats.Processing + stats.Enqueued == 0) return;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{stats.Processing} jobs still processing, {stats.Enqueued} enqueued");
            await Task.Delay(50);
        }
    }

    public static string[] ErrorKeys(this JsonElement problem) =>
        problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
}
