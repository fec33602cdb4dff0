using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

public static partial class DatasetsApi
{
    public const long MaxUploadBytes = 256L * 1024 * 1024;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/datasets").WithTags("Datasets");
        api.MapGet("/", ListDatasets).WithName("ListDatasets").WithSummary("Built-in and uploaded datasets, and whether each is available here");
        api.MapGet("/{name}", GetDataset).WithName("GetDataset").WithSummary("Shapes, classes, sizes and availability of one dataset");
        api.MapPost("/", UploadCsv).WithName("UploadDataset")
            .WithSummary("Upload a CSV (multipart field 'file', optional field 'name'); reports the inferred columns")
            .DisableAntiforgery();
        return app;
    }

    public static Ok<IReadOnlyList<DatasetDescription>> ListDatasets(IDatasets datasets) => TypedResults.Ok(datasets.List());

    public static Results<Ok<DatasetDescription>, ProblemHttpResult> GetDataset(string name, IDatasets datasets) =>
        datasets.Describe(name) is { } d
            ? TypedResults.Ok(d)
            : Problems.NotFound("Dataset not found", $"No dataset is named '{name}'. GET /api/datasets lists them.");

    public static async Task<Results<Created<DatasetDescription>, ValidationProblem>> UploadCsv(
        IFormFile? file, [Microsoft.AspNetCore.Mvc.FromForm] string? name, IDatasets datasets, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (file is null || file.Length == 0) errors.Add("file", "Attach a non-empty CSV file as multipart field 'file'.");
        else if (file.Length > MaxUploadBytes) errors.Add("file", $"At most {MaxUploadBytes} bytes; got {file.Length}.");
        var datasetName = name ?? Path.GetFileNameWithoutExtension(file?.FileName ?? "");
        if (!NamePattern().IsMatch(datasetName))
            errors.Add("name", $"'{datasetName}' is not a valid dataset name: 1-64 letters, digits, '.', '_' or '-'.");
        if (!errors.IsEmpty) return Problems.Invalid(errors);

        try
        {
            await using var stream = file!.OpenReadStream();
            var description = await datasets.UploadCsvAsync(datasetName, stream, cancellationToken);
            return TypedResults.Created($"/api/datasets/{description.Name}", description);
        }
        catch (SpecException e)
        {
            errors.AddRange(e.Errors);
            return Problems.Invalid(errors);
        }
    }
}
