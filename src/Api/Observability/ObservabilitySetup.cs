using OpenTelemetry.Metrics;

namespace TrainingService.Api.Observability;

/// <summary>
/// <c>/metrics</c> in Prometheus text format: the service's instruments (<see cref="ServiceMetrics"/>), ASP.NET Core's
/// request durations and the .NET runtime's (GC, memory, CPU), exported by OpenTelemetry.
/// </summary>
public static class ObservabilitySetup
{
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(ServiceNode.From(builder.Configuration));
        builder.Services.AddSingleton<RunCounts>();
        builder.Services.AddSingleton<ServiceMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServiceMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "System.Runtime")
            .AddPrometheusExporter());
        return builder;
    }

    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<ServiceMetrics>(); // creates the gauges before the first scrape
        var runs = app.Services.GetRequiredService<RunCounts>();
        // The database gauges are read before the exporter collects: its gauge callbacks are synchronous.
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null,
            configureBranchedPipeline: pipeline => pipeline.Use(async (context, next) =>
            {
                await runs.RefreshAsync(context.RequestAborted);
                await next(context);
            }),
            optionsName: null).WithTags("Health");
        return app;
    }
}
