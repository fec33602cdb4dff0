using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Infrastructure;

/// <summary>The few ProblemDetails the API answers besides validation problems, worded once.</summary>
public static class Problems
{
    public static ProblemHttpResult RunNotFound(Guid id) =>
        TypedResults.Problem(title: "Run not found", detail: $"No run has id {id}.", statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static ValidationProblem Invalid(ValidationErrors errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), detail: detail, title: "The request is not valid.");

    /// <summary>A spec the engine refused: each of its errors under its JSON path.</summary>
    public static ValidationProblem Invalid(SpecException refused)
    {
        var errors = new ValidationErrors();
        errors.AddRange(refused.Errors);
        return Invalid(errors);
    }

    public static ValidationProblem Invalid(string path, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [path] = [message] }, title: "The request is not valid.");
}
