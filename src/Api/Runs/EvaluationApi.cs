using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Api.Runs;

/// <summary>What a run was scored on and how it did there: the stored evaluation, and the test examples themselves
/// (so a client can request its own predictions and check the evaluation's counts).</summary>
public static class EvaluationApi
{
    public const int MaxExamples = 100;

    public static IEndpointRouteBuilder MapEvaluationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runs").WithTags("Runs");
        api.MapGet("/{id:guid}/evaluation", GetEvaluation).WithName("GetRunEvaluation")
            .WithSummary("A classifier's test-set confusion matrix, per-class precision/recall/F1 and misclassified examples");
        api.MapGet("/{id:guid}/test_examples", GetTestExamples).WithName("GetRunTestExamples")
            .WithSummary("The run's test examples as the dataset stores them (inputs and labels), a page at a time");
        return app;
    }

    public static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> GetEvaluation(Guid id, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id)
            .Select(r => new { r.Status, r.EvaluationJson }).SingleOrDefaultAsync(cancellationToken);
        if (run is null) return Problems.RunNotFound(id);
        if (run.EvaluationJson is { } json) return TypedResults.Ok(Json.ParseElement(json)!.Value);
        if (run.Status != RunStatus.Succeeded)
            return Problems.Conflict("Run not finished", $"Run {id} is {run.Status.ToWire()}; the evaluation is computed when a run succeeds.");
        return Problems.NotFound("No evaluation",
            $"Run {id} has no classification evaluation: its model is not a classifier over the dataset's classes, it had no test set " +
            "to score on, or it finished before evaluations were stored.");
    }

    /// <summary>Prepares the run's dataset choice again (preparation is deterministic for a spec) and pages through
    /// its test split: raw inputs, in the form predict takes them, and the class label.</summary>
    public static async Task<Results<Ok<TestExamplesPage>, ValidationProblem, ProblemHttpResult>> GetTestExamples(
        Guid id, [FromQuery] int? offset, [FromQuery] int? count, TrainingDbContext db, IDatasets datasets, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.SpecJson, r.Role }).SingleOrDefaultAsync(cancellationToken);
        if (run is null) return Problems.RunNotFound(id);
        var errors = new ValidationErrors();
        if (offset is < 0) errors.Add("offset", "At least 0.");
        if (count is < 1 or > MaxExamples) errors.Add("count", $"Between 1 and {MaxExamples}.");
        if (!errors.IsEmpty) return Problems.Invalid(errors);
        if (run.Role == Persistence.Tuning.RunRoles.Fold)
            return Problems.Conflict("Scored on a fold", $"Run {id} is a cross-validation fold: it is scored on its held-out fold, not a test split.");

        using var spec = JsonDocument.Parse(run.SpecJson);
        PreparedData data;
        try
        {
            data = datasets.Prepare(spec.RootElement.GetProperty("dataset"), cancellationToken);
        }
        catch (SpecException e)
        {
            errors.AddRange(e.Errors);
            return Problems.Invalid(errors);
        }
        using (data)
        {
            if (data.Test is not { } test || test.Targets.Count == 0)
                return Problems.NotFound("No test split", $"Run {id}'s dataset choice has no test split.");
            var start = offset ?? 0;
            var end = Math.Min(test.Count, start + (long)(count ?? 20));
            var items = new List<TestExample>();
            for (var i = (long)start; i < end; i++)
            {
                using var scope = NewDisposeScope();
                var input = test.Inputs[0][i].to_type(ScalarType.Float64).contiguous();
                var target = test.Targets[0][i];
                var label = target.dim() == 0 || target.shape[0] == 1 ? target.to_type(ScalarType.Int64).item<long>() : target.argmax().item<long>();
                items.Add(new TestExample(i, (int)label, Nest(input.data<double>().ToArray(), input.shape)));
            }
            return TypedResults.Ok(new TestExamplesPage(items, test.Count));
        }
    }

    /// <summary>Flat row-major values as nested arrays of <paramref name="shape"/>, the way predict takes an instance.</summary>
    private static object Nest(double[] values, long[] shape)
    {
        if (shape.Length <= 1) return values;
        var inner = shape[1..].Aggregate(1L, (a, b) => a * b);
        return Enumerable.Range(0, (int)shape[0]).Select(k => Nest(values[(int)(k * inner)..(int)((k + 1) * inner)], shape[1..])).ToArray();
    }
}

public sealed record TestExample(long Index, int Label, object Input);

public sealed record TestExamplesPage(IReadOnlyList<TestExample> Items, long Total);
