using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Limits;
using TrainingService.Api.Security;
using TrainingService.Persistence;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

public static class DatasetsApi
{
    public const long MaxUploadBytes = 256L * 1024 * 1024;

    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/datasets").WithTags("Datasets");
        api.MapGet("/", ListDatasets).WithName("ListDatasets").WithSummary("Built-in and uploaded datasets, and whether each is available here");
        api.MapGet("/{name}", GetDataset).WithName("GetDataset").WithSummary("Shapes, classes, sizes and availability of one dataset");
        api.MapGet("/{name}/samples", GetSamples).WithName("GetDatasetSamples")
            .WithSummary("Stored examples of an image dataset (pixels and labels), for looking at the data");
        api.MapPost("/", UploadCsv).WithName("UploadDataset")
            .WithSummary("Upload a CSV (multipart field 'file'); answers its inferred columns and the name runs use (csv:<id>)")
            // Above Kestrel's 30 MB default; the store enforces Datasets:MaxUploadBytes (50 MB by default) itself.
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(new TrainingService.Training.Datasets.DatasetOptions().MaxUploadBytes + 1024 * 1024))
            .DisableAntiforgery()
            .RequireAuthorization(Scopes.DatasetsWrite)
            .RequireRateLimiting(RequestLimits.Submissions);
        api.MapDelete("/{name}", DeleteUpload).WithName("DeleteDataset")
            .WithSummary("Delete an uploaded CSV (csv:<id>); refused with 409 while a queued or running run needs it")
            .RequireAuthorization(Scopes.DatasetsWrite);
        return app;
    }

    public static Ok<IReadOnlyList<DatasetDescription>> ListDatasets(IDatasets datasets) => TypedResults.Ok(datasets.List());

    public static Results<Ok<DatasetDescription>, ProblemHttpResult> GetDataset(string name, IDatasets datasets) =>
        datasets.Describe(name) is { } d
            ? TypedResults.Ok(d)
            : Problems.NotFound("Dataset not found", $"No dataset is named '{name}'. GET /api/datasets lists them.");

    public const int MaxSamples = 100;

    public static async Task<Results<Ok<IReadOnlyList<DatasetSample>>, ValidationProblem, ProblemHttpResult>> GetSamples(
        string name, [Microsoft.AspNetCore.Mvc.FromQuery] string? split, [Microsoft.AspNetCore.Mvc.FromQuery] int? offset,
        [Microsoft.AspNetCore.Mvc.FromQuery] int? count, IDatasets datasets, CancellationToken cancellationToken)
    {
        if (datasets.Describe(name) is null)
            return Problems.NotFound("Dataset not found", $"No dataset is named '{name}'. GET /api/datasets lists them.");
        var errors = new ValidationErrors();
        if (offset is < 0) errors.Add("offset", "At least 0.");
        if (count is < 1 or > MaxSamples) errors.Add("count", $"Between 1 and {MaxSamples}.");
        if (!errors.IsEmpty) return Problems.Invalid(errors);
        try
        {
            return TypedResults.Ok(await datasets.SamplesAsync(name, split ?? "train", offset ?? 0, count ?? 16, cancellationToken));
        }
        catch (SpecException e)
        {
            return Problems.Invalid(e);
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteUpload(
        string name, HttpContext context, DatabaseCsvUploads uploads, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var notFound = Problems.NotFound("Upload not found", $"No upload of yours is named '{name}'. GET /api/datasets lists them; built-in datasets cannot be deleted.");
        if (!name.StartsWith(DatasetSpec.CsvPrefix, StringComparison.Ordinal)) return notFound;
        var id = name[DatasetSpec.CsvPrefix.Length..];
        if (!CsvUploadIds.IsValid(id)) return notFound;
        var result = await uploads.DeleteAsync(id, context.User.Owner(), context.User.IsAdmin(), cancellationToken);
        if (result.ActiveRuns.Count > 0)
            return Problems.Conflict("Upload in use", $"Runs {string.Join(", ", result.ActiveRuns)} are queued or running on '{name}'; delete it when they have ended.");
        if (!result.Deleted) return notFound;
        await Audit.RecordNowAsync(db, context.User, "dataset.delete", name, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Created<DatasetDescription>, ValidationProblem, ProblemHttpResult>> UploadCsv(
        IFormFile? file, IDatasets datasets, HttpContext context, TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
            return Problems.Invalid("file", "Attach a non-empty CSV file (with a header row) as multipart field 'file'.");
        if (file.Length > MaxUploadBytes)
            return Problems.Invalid("file", $"At most {MaxUploadBytes} bytes; got {file.Length}.");
        using var buffer = new MemoryStream();
        await using (var stream = file.OpenReadStream()) await stream.CopyToAsync(buffer, cancellationToken);
        try
        {
            var description = await datasets.UploadCsvAsync(buffer.ToArray(), cancellationToken);
            await Audit.RecordNowAsync(db, context.User, "dataset.upload", description.Name, cancellationToken);
            return TypedResults.Created($"/api/datasets/{description.Name}", description);
        }
        catch (SpecException e)
        {
            return Problems.Invalid(e);
        }
        catch (QuotaExceededException e)
        {
            return e.Problem;
        }
    }
}
