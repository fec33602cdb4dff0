using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TrainingService.Persistence;

namespace TrainingService.Api.Infrastructure;

/// <summary><c>/health</c>: the database answers, a job server is alive, libtorch runs a tensor op.</summary>
public static class Health
{
    public static WebApplicationBuilder AddServiceHealth(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks().AddCheck<DatabaseCheck>("database");
        // An api node runs no job server of its own; its health does not depend on the workers'.
        if (ServiceRole.Read(builder.Configuration).Trains) checks.AddCheck<JobServerCheck>("job_server");
        checks.AddCheck<LibTorchCheck>("libtorch");
        return builder;
    }

    public static WebApplication MapServiceHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            ResponseWriter = async (context, report) =>
            {
                context.Response.ContentType = "application/json";
                await JsonSerializer.SerializeAsync(context.Response.Body, new
                {
                    status = report.Status.ToString().ToLowerInvariant(),
                    checks = report.Entries.ToDictionary(e => e.Key, e => new
                    {
                        status = e.Value.Status.ToString().ToLowerInvariant(),
                        description = e.Value.Description,
                    }),
                }, Json.Options);
            },
        }).WithTags("Health");
        // Liveness only, no work: also the framework's ceiling in the serving benchmark (docs/benchmarks.md).
        app.MapGet("/ping", () => "pong").WithTags("Health").WithName("Ping").WithSummary("Liveness: answers pong, checks nothing");
        return app;
    }

    private sealed class DatabaseCheck(IDbContextFactory<TrainingDbContext> contexts) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var runs = await db.Runs.CountAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{runs} run(s)");
        }
    }

    private sealed class JobServerCheck(JobStorage storage) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var servers = storage.GetMonitoringApi().Servers();
            var alive = servers.Count(s => s.Heartbeat is { } h && DateTime.UtcNow - h < TimeSpan.FromMinutes(1));
            return Task.FromResult(alive > 0
                ? HealthCheckResult.Healthy($"{alive} job server(s), {servers.Sum(s => s.WorkersCount)} worker(s)")
                : HealthCheckResult.Unhealthy("No live Hangfire server."));
        }
    }

    private sealed class LibTorchCheck : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            using var a = TorchSharp.torch.ones(2, 2);
            using var b = a.matmul(a);
            var v = b.sum().item<float>();
            return Task.FromResult(v == 8f
                ? HealthCheckResult.Healthy($"libtorch ok, {TorchSharp.torch.get_num_threads()} thread(s)")
                : HealthCheckResult.Unhealthy($"libtorch computed {v} for a sum that is 8."));
        }
    }
}
