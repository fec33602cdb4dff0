using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TrainingService.Api.Observability;
using TrainingService.Persistence;

namespace TrainingService.Api.Infrastructure;

/// <summary><c>/health</c>: which node this is and what its role depends on (the database answers, a job server is
/// alive on nodes that train, libtorch runs a tensor op); <c>/health/live</c>: the process answers, nothing checked.</summary>
public static class Health
{
    public static WebApplicationBuilder AddServiceHealth(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks().AddCheck<DatabaseCheck>("database");
        // An api node runs no job server: it only enqueues, so a missing server there is no fault of this node.
        if (ServiceNode.From(builder.Configuration).RunsJobs) checks.AddCheck<JobServerCheck>("job_server");
        checks.AddCheck<LibTorchCheck>("libtorch");
        return builder;
    }

    public static WebApplication MapServiceHealth(this WebApplication app)
    {
        var node = app.Services.GetRequiredService<ServiceNode>();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = (context, report) => WriteAsync(context, report, node) })
            .WithTags("Health");
        // Liveness for orchestrators: no dependency is checked, so a database outage does not restart every node.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = (context, report) => WriteAsync(context, report, node) })
            .WithTags("Health");
        // Liveness only, no work: also the framework's ceiling in the serving benchmark (docs/benchmarks.md).
        app.MapGet("/ping", () => "pong").WithTags("Health").WithName("Ping").WithSummary("Liveness: answers pong, checks nothing");
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report, ServiceNode node)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            node = node.Name,
            role = node.Role,
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
            }),
        }, Json.Options);
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
