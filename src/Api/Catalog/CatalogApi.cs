using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Training.Activations;
using TrainingService.Training.Callbacks;
using TrainingService.Training.Engine;
using TrainingService.Training.Losses;
using TrainingService.Training.Metrics;
using TrainingService.Training.Optimizers;

namespace TrainingService.Api.Catalog;

/// <summary>What a run spec may use, read from the engine's own registries (the ones the parser uses), so the
/// listing cannot drift from what is accepted.</summary>
public sealed record CatalogResponse(
    IReadOnlyList<CatalogEntry> Layers,
    IReadOnlyList<string> Activations,
    IReadOnlyList<string> Initializers,
    IReadOnlyList<string> Optimizers,
    IReadOnlyList<string> Losses,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<string> Callbacks,
    IReadOnlyList<string> LearningRateSchedules);

public static class CatalogApi
{
    private static readonly Lazy<CatalogResponse> Listing = new(() => new CatalogResponse(
        TrainingService.Training.Engine.Catalog.LayerEntries(),
        ActivationRegistry.Names.Order().ToArray(),
        TrainingService.Training.Engine.Catalog.InitializerNames(),
        OptimizerRegistry.Names.Order().ToArray(),
        LossRegistry.Names.Order().ToArray(),
        MetricRegistry.Names.Order().ToArray(),
        CallbackRegistry.Names.Order().ToArray(),
        ScheduleRegistry.Names.Order().ToArray()));

    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/catalog", GetCatalog).WithTags("Catalog").WithName("GetCatalog")
            .WithSummary("Every layer (with its keys and defaults), activation, initializer, optimizer, loss, metric and callback");
        return app;
    }

    public static Ok<CatalogResponse> GetCatalog() => TypedResults.Ok(Listing.Value);
}
