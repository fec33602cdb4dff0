using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Security;
using TrainingService.Persistence;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Keras;

/// <summary>Keras interoperability: convert a Keras document or .keras archive without training, and export a run's
/// architecture as Keras 3 <c>to_json()</c>. Runs take Keras models through <c>POST /api/runs</c> itself.</summary>
public static class KerasApi
{
    public static IEndpointRouteBuilder MapKerasApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/models/convert", Convert)
            .WithTags("Keras").WithName("ConvertKerasModel")
            .WithSummary("Convert a Keras model to the native definition, with its summary and notes (no training)")
            .WithDescription("JSON body: a Keras 2 or 3 model.to_json() document or a TensorFlow.js model.json. " +
                             "Multipart, with weights: field 'file' holds a .keras archive, a legacy .h5 model, a TF.js zip, or a TF.js model.json with its " +
                             "weight shards (several files); a weights-only .weights.h5 / save_weights file takes the model.to_json() document in field " +
                             "'architecture'. Errors carry JSON paths into the Keras document ($ is its root).")
            .Accepts<JsonElement>("application/json", "multipart/form-data")
            // Kestrel's default 30 MB request limit would refuse archives the upload check allows.
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(KerasUploads.MaxArchiveBytes + 1024 * 1024))
            .DisableAntiforgery()
            .RequireAuthorization(Scopes.RunsWrite);
        app.MapGet("/api/runs/{id:guid}/keras", Export)
            .WithTags("Keras").WithName("ExportRunAsKeras")
            .WithSummary("The run's architecture as Keras 3 model.to_json() (keras.models.model_from_json reads it)")
            .RequireAuthorization(Scopes.RunsRead);
        return app;
    }

    public static async Task<Results<Ok<ConvertResponse>, ValidationProblem>> Convert(
        HttpRequest request, IOptions<TrainingOptions> training, CancellationToken cancellationToken)
    {
        var limits = training.Value.Limits;
        try
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(cancellationToken);
                var (files, problem) = await KerasUploads.ReadFilesAsync(form, "file", cancellationToken);
                if (problem is not null) return problem;
                var (architecture, archProblem) = KerasUploads.ReadArchitecture(form);
                if (archProblem is not null) return archProblem;
                var import = KerasFiles.Import(files!, architecture, "$", limits);
                return TypedResults.Ok(Response(import.Conversion, import.Weights, limits));
            }
            JsonElement document;
            try
            {
                using var doc = await StrictJson.ParseAsync(request.Body, cancellationToken);
                document = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return Problems.Invalid("$", $"The body is not valid JSON: {e.Message}");
            }
            if (!KerasImporter.IsKerasDocument(document))
                return Problems.Invalid("$", "Expected a Keras model document: model.to_json() output (with class_name and config) or a TensorFlow.js model.json (with modelTopology).");
            return TypedResults.Ok(Response(KerasImporter.Convert(document, "$", limits: limits), null, limits));
        }
        catch (SpecException e)
        {
            return Problems.Invalid(e);
        }
    }

    private static ConvertResponse Response(KerasConversion conversion, byte[]? weights, EngineLimits limits)
    {
        var errors = new List<SpecError>();
        var model = Training.Models.ModelParser.Parse(JsonSerializer.SerializeToElement(conversion.Model), "model", limits, errors)
            ?? throw new SpecException(conversion.ToKerasPaths(errors));
        KerasWeightsInfo? info = null;
        if (weights is not null)
        {
            using var ms = new MemoryStream(weights);
            var tensors = TensorArchive.Read(ms);
            info = new KerasWeightsInfo(tensors.Count, tensors.Values.Sum(t => t.numel()));
            foreach (var t in tensors.Values) t.Dispose();
        }
        return new ConvertResponse(conversion.Model, conversion.Compile, TrainingPlan.Summarize(model), conversion.Notes, conversion.Version.Text, info);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Export(Guid id, TrainingDbContext db, IOptions<TrainingOptions> training, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.Name, r.SpecJson }).SingleOrDefaultAsync(cancellationToken);
        if (run is null) return Problems.RunNotFound(id);
        using var spec = JsonDocument.Parse(run.SpecJson);
        var errors = new List<SpecError>();
        var model = Training.Models.ModelParser.Parse(spec.RootElement.GetProperty("model"), "model", training.Value.Limits, errors);
        if (model is null)
            return TypedResults.Problem(title: "Model cannot be read", detail: string.Join("; ", errors), statusCode: StatusCodes.Status500InternalServerError);
        try
        {
            var json = KerasExporter.Export(model, run.Name ?? "model");
            return TypedResults.Content(json.ToJsonString(), "application/json");
        }
        catch (SpecException e)
        {
            return TypedResults.Problem(title: "Not expressible in Keras 3",
                detail: string.Join("; ", e.Errors.Select(x => $"{x.Path}: {x.Message}")), statusCode: StatusCodes.Status409Conflict);
        }
    }
}
