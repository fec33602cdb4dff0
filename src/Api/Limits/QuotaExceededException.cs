using Microsoft.AspNetCore.Http.HttpResults;

namespace TrainingService.Api.Limits;

/// <summary>A quota refused a write made below a synchronous interface (a CSV upload's store); the endpoint answers
/// <see cref="Problem"/>.</summary>
public sealed class QuotaExceededException(ProblemHttpResult problem) : Exception(problem.ProblemDetails.Detail)
{
    public ProblemHttpResult Problem { get; } = problem;
}
