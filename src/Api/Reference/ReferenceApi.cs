using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Reference;

/// <summary>The reference of layers, activations, initializers, optimizers, losses, metrics, callbacks and schedules. Its
/// URL and operation name stay <c>catalog</c> for the clients that use them.</summary>
public static class ReferenceApi
{
    public static IEndpointRouteBuilder MapReferenceApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/catalog", GetReference).WithTags("Reference").WithName("GetCatalog")
            .WithSummary("Every layer, activation, initializer, optimizer, loss, metric, callback and schedule with its keys and defaults");
        return app;
    }

    /// <summary>Read from the engine's registries, the ones the parser uses, so it cannot drift from what is accepted.</summary>
    public static Ok<ReferenceListing> GetReference() => TypedResults.Ok(TrainingService.Training.Engine.Reference.Listing);
}
