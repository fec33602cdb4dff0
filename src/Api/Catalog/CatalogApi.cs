using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Catalog;

public static class CatalogApi
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/catalog", GetCatalog).WithTags("Catalog").WithName("GetCatalog")
            .WithSummary("Every layer, activation, initializer, optimizer, loss, metric and callback with parameters and defaults");
        return app;
    }

    // SEAM: the engine's registry (issue 2) is not merged yet; this answers 501 rather than a hand-kept list that
    // could drift from what the parser accepts.
    public static Results<Ok<JsonObject>, ProblemHttpResult> GetCatalog() =>
        TypedResults.Problem(title: "Catalog not available", detail: "The engine's registry is not part of this build yet.",
            statusCode: StatusCodes.Status501NotImplemented);
}
