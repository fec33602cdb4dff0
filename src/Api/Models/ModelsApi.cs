using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Limits;
using TrainingService.Api.Runs;
using TrainingService.Api.Security;
using TrainingService.Api.Serving;
using TrainingService.Persistence;
using TrainingService.Persistence.Postgres;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Models;

public static class ModelsApi
{
    /// <summary>A prediction body (JSON instances or image files): Kestrel's default, stated so it is the endpoint's own.</summary>
    public const long MaxBodyBytes = 32L * 1024 * 1024;

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        Predicts(app.MapPost("/api/runs/{id:guid}/predict", PredictWithRun))
            .WithName("PredictWithRun").WithSummary("Predict with a succeeded run's model");

        var models = app.MapGroup("/api/models").WithTags("Models");
        models.MapGet("/", ListModels).WithName("ListModels").WithSummary("Model names and the run serving each").RequireAuthorization(Scopes.RunsRead);
        models.MapGet("/{name}", GetModel).WithName("GetModel").WithSummary("The run currently serving a model name").RequireAuthorization(Scopes.RunsRead);
        Predicts(models.MapPost("/{name}/predict", PredictWithModel))
            .WithName("PredictWithModel").WithSummary("Predict with the newest succeeded run of that name");
        return app;
    }

    /// <summary>What both predict routes are: the predict scope and rate, the body limit, JSON or image files.</summary>
    private static RouteHandlerBuilder Predicts(RouteHandlerBuilder endpoint) => endpoint
        .WithTags("Predictions")
        .RequireAuthorization(Scopes.Predict)
        .RequireRateLimiting(RequestLimits.Predictions)
        .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxBodyBytes))
        .Accepts<PredictRequest>("application/json", "multipart/form-data")
        .WithRequestExample(ApiExamples.Predict);

    public static async Task<Results<Ok<PredictResponse>, ValidationProblem, ProblemHttpResult>> PredictWithRun(
        Guid id, HttpRequest request, TrainingDbContext db, ModelCache models, PredictionService predictions, IOptions<PredictionOptions> options,
        CancellationToken cancellationToken)
    {
        // The hot path: a loaded model belongs to a succeeded run, which cannot change, so no query is needed
        // when the caller may see every run; anyone else's ownership is checked by the (owner-scoped) query.
        if (request.HttpContext.User.IsAdmin() && models.IsLoaded(id, out var loadedName)) return await PredictAsync(id, loadedName, request, predictions, options.Value, cancellationToken);
        var run = await RunStatusById(db, id);
        if (run is null) return Problems.RunNotFound(id);
        if (run.Status != RunStatus.Succeeded)
            return Problems.Conflict("Run has not succeeded", $"Run {id} is {run.Status.ToWire()}; predictions need a succeeded run.");
        return await PredictAsync(id, run.Name, request, predictions, options.Value, cancellationToken);
    }

    private sealed record RunNameAndStatus(string? Name, RunStatus Status);

    private static Task<RunNameAndStatus?> RunStatusById(TrainingDbContext db, Guid id) => db is PostgresTrainingDbContext pg
        ? Compiled<PostgresTrainingDbContext>.RunStatusById(pg, id)
        : Compiled<TrainingDbContext>.RunStatusById(db, id);

    // Compiled once: the predict endpoints run these on every request that is not served from the cache alone. A
    // compiled query keeps the provider it first ran on, so each context type (provider) gets its own.
    private static class Compiled<TContext> where TContext : TrainingDbContext
    {
        public static readonly Func<TContext, Guid, Task<RunNameAndStatus?>> RunStatusById =
            EF.CompileAsyncQuery((TContext db, Guid id) =>
                db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new RunNameAndStatus(r.Name, r.Status)).SingleOrDefault());

    }

    public static async Task<Results<Ok<PredictResponse>, ValidationProblem, ProblemHttpResult>> PredictWithModel(
        string name, HttpRequest request, TrainingDbContext db, ModelNames names, PredictionService predictions, IOptions<PredictionOptions> options, CancellationToken cancellationToken)
    {
        // Resolved as the serving protocols resolve names: a retrained model replaces the old one within Prediction:NameCacheSeconds.
        if (await names.ResolveAsync(db, name, cancellationToken) is not { } versions)
            return Problems.NotFound("Model not found", $"No succeeded run is named '{name}'.");
        return await PredictAsync(versions.Run(versions.Latest), name, request, predictions, options.Value, cancellationToken);
    }

    public static async Task<Ok<List<ModelResponse>>> ListModels(TrainingDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Runs.AsNoTracking()
            .Where(r => r.Status == RunStatus.Succeeded && r.Name != null)
            .Select(r => new { r.Id, Name = r.Name!, r.FinishedAt, r.MetricsJson })
            .ToListAsync(cancellationToken);
        var models = rows.GroupBy(r => r.Name)
            .Select(g =>
            {
                var newest = g.OrderByDescending(r => r.FinishedAt).ThenByDescending(r => r.Id).First();
                return new ModelResponse(g.Key, newest.Id, newest.FinishedAt, Json.ParseElement(newest.MetricsJson), g.Count());
            })
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(models);
    }

    public static async Task<Results<Ok<ModelResponse>, ProblemHttpResult>> GetModel(string name, TrainingDbContext db, ModelNames names, CancellationToken cancellationToken)
    {
        // The run that serves the name is found as every predict endpoint finds it.
        if (await names.ResolveAsync(db, name, cancellationToken) is not { } versions)
            return Problems.NotFound("Model not found", $"No succeeded run is named '{name}'.");
        var runId = versions.Run(versions.Latest);
        var newest = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.FinishedAt, r.MetricsJson }).SingleOrDefaultAsync(cancellationToken);
        if (newest is null) return Problems.NotFound("Model not found", $"No succeeded run is named '{name}'.");
        return TypedResults.Ok(new ModelResponse(name, runId, newest.FinishedAt, Json.ParseElement(newest.MetricsJson), versions.Latest));
    }

    private static async Task<Results<Ok<PredictResponse>, ValidationProblem, ProblemHttpResult>> PredictAsync(
        Guid runId, string? name, HttpRequest request, PredictionService predictions, PredictionOptions options, CancellationToken ct)
    {
        if (request.HasFormContentType)
        {
            // Image models also take files: every file part is one instance, in order.
            var form = await request.ReadFormAsync(ct);
            if (form.Files.Count == 0) return Problems.Invalid("file", "Attach one or more image files.");
            if (form.Files.Count > options.MaxInstances)
                return Problems.Invalid("file", $"At most {options.MaxInstances} files per request; got {form.Files.Count}.");
            var images = new List<byte[]>();
            foreach (var f in form.Files)
            {
                using var buffer = new MemoryStream();
                await f.CopyToAsync(buffer, ct);
                images.Add(buffer.ToArray());
            }
            return await Guarded(() => predictions.PredictImagesAsync(runId, images, ct), runId, name);
        }

        using var body = await RequestBody.ReadAsync(request, ct);
        using (var buffer = new FloatBuffer())
        {
            // The fast path: numbers read straight from the body into one buffer. Anything it does not take, and any
            // instance it refuses, goes the general way below, which names the instance at fault.
            var shape = new List<int>();
            if (InstancesJson.TryReadDense(body.Bytes, "instances", buffer, shape))
            {
                if (shape[0] > options.MaxInstances)
                    return Problems.Invalid("instances", $"At most {options.MaxInstances} instances per request; got {shape[0]}.");
                try
                {
                    var dense = await predictions.PredictDenseAsync(runId, [new DenseInput(buffer.Array, [.. shape])], InstancesPath, ct);
                    return TypedResults.Ok(new PredictResponse(runId, name, dense));
                }
                catch (SpecException)
                {
                }
            }
        }

        JsonElement instances;
        try
        {
            using var doc = StrictJson.Parse(body.Bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("instances", out var i))
                return Problems.Invalid("instances", "Expected {\"instances\": [ … ]} with one raw example per item.");
            instances = i.Clone();
        }
        catch (JsonException e)
        {
            return Problems.Invalid("$", $"The body is not valid JSON: {e.Message}");
        }
        if (instances.ValueKind != JsonValueKind.Array || instances.GetArrayLength() == 0)
            return Problems.Invalid("instances", "Expected a non-empty array of raw examples.");
        if (instances.GetArrayLength() > options.MaxInstances)
            return Problems.Invalid("instances", $"At most {options.MaxInstances} instances per request; got {instances.GetArrayLength()}.");
        return await Guarded(() => predictions.PredictAsync(runId, instances, ct), runId, name);
    }

    private static readonly string[] InstancesPath = ["instances"];

    private static async Task<Results<Ok<PredictResponse>, ValidationProblem, ProblemHttpResult>> Guarded(
        Func<Task<IReadOnlyList<System.Text.Json.Nodes.JsonObject>>> predict, Guid runId, string? name)
    {
        try
        {
            var result = await predict();
            return TypedResults.Ok(new PredictResponse(runId, name, result));
        }
        catch (SpecException e)
        {
            return Problems.Invalid(e);
        }
    }
}
