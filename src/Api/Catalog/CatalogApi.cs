using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Catalog;

public static class CatalogApi
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/catalog", GetCatalog).WithTags("Catalog").WithName("GetCatalog")
            .WithSummary("Every layer, activation, initializer, optimizer, loss, metric, callback and schedule with its keys and defaults");
        return app;
    }

    /// <summary>Read from the engine's registries, the ones the parser uses, so it cannot drift from what is accepted.</summary>
    public static Ok<CatalogListing> GetCatalog() => TypedResults.Ok(TrainingService.Training.Engine.Catalog.Listing);
}
