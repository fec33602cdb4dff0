using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.CrossValidation;

public static class CrossValidationApi
{
    public static IEndpointRouteBuilder MapCrossValidationApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/runs/{id:guid}/cross_validation", GetCrossValidation)
            .WithTags("Runs").WithName("GetCrossValidation")
            .WithSummary("Per-fold metrics, their mean and standard deviation, and the refit of a cross-validation run")
            .RequireAuthorization(Security.Scopes.RunsRead);
        return app;
    }

    public static async Task<Results<Ok<CrossValidationReport>, ProblemHttpResult>> GetCrossValidation(
        Guid id, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var parent = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (parent is null) return Problems.RunNotFound(id);
        if (parent.Role != RunRoles.CrossValidation)
            return Problems.NotFound("Not a cross-validation run", $"Run {id} was not submitted with cross_validation.");
        using var spec = JsonDocument.Parse(parent.SpecJson);
        var cv = CrossValidationSpec.FromSpec(spec.RootElement)!;
        var children = await db.Runs.AsNoTracking().Where(r => r.ParentRunId == id).ToListAsync(cancellationToken);
        return TypedResults.Ok(CrossValidationAggregate.Build(parent, cv, children));
    }
}
