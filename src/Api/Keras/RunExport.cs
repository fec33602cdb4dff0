using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Onnx;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Keras;

/// <summary>
/// <c>GET /api/runs/{id}/export?format=keras|tfjs|onnx</c>: a succeeded run's model with its final weights, in a
/// format another tool reads (Keras 3 <c>.keras</c>, a TensorFlow.js layers-model zip, an ONNX file). Each carries the
/// run's preprocessing (what the service applies to raw instances before the model, and how it reads the outputs) in
/// its metadata, so a consumer can reproduce the service's predictions.
/// </summary>
public static class RunExport
{
    public static readonly string[] Formats = ["keras", "tfjs", "onnx"];

    /// <summary>How to apply the stored preprocessing, for a consumer without this service's code.</summary>
    private const string HowToApply =
        "Per input in preprocessing.inputs: cast the raw example (raw_shape, raw_dtype) to float32, multiply by rescale, " +
        "subtract mean and divide by std (per channel for images, per feature for tables; in rescaled units), reshape " +
        "to shape. Text inputs are encoded with the stored text encoding (vocabulary, padding, truncation) into integer " +
        "ids; CSV inputs with the stored columns (numeric imputation/standardization, categories one-hot). " +
        "Augmentation applies in training only. Outputs: preprocessing.targets gives class_names for classifiers.";

    public static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Export(
        Guid id, [FromQuery] string? format, TrainingDbContext db, IOptions<TrainingOptions> training, CancellationToken cancellationToken)
    {
        if (format is null || !Formats.Contains(format))
            return Problems.Invalid("format", $"Unknown export format '{format}'. Accepted: {string.Join(", ", Formats)}.");
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id)
            .Select(r => new { r.Name, r.Status, r.SpecJson, r.PreprocessingJson }).SingleOrDefaultAsync(cancellationToken);
        if (run is null) return Problems.RunNotFound(id);
        if (run.Status != RunStatus.Succeeded)
            return Problems.Conflict("Run has not succeeded", $"Run {id} is {run.Status.ToWire()}; an export needs a succeeded run's final weights.");
        var weights = await db.RunWeights.AsNoTracking().Where(w => w.RunId == id && w.Kind == WeightsKind.Final)
            .Select(w => w.Data).SingleOrDefaultAsync(cancellationToken);
        if (weights is null) return Problems.NotFound("No weights", $"Run {id} has no final weights.");

        using var spec = JsonDocument.Parse(run.SpecJson);
        var errors = new List<SpecError>();
        var model = Training.Models.ModelParser.Parse(spec.RootElement.GetProperty("model"), "model", training.Value.Limits, errors)
            ?? throw new InvalidOperationException($"Run {id}'s stored model no longer parses: {string.Join("; ", errors)}");
        var name = run.Name ?? "model";
        var metadata = new JsonObject
        {
            ["run_id"] = id.ToString(),
            ["run_name"] = run.Name,
            ["preprocessing"] = run.PreprocessingJson is null ? null : JsonNode.Parse(run.PreprocessingJson),
            ["how_to_apply_preprocessing"] = HowToApply,
        };
        Dictionary<string, TorchSharp.torch.Tensor> state;
        using (var ms = new MemoryStream(weights)) state = TensorArchive.Read(ms);
        try
        {
            return format switch
            {
                "keras" => TypedResults.File(KerasArchive.Export(model, state, name, metadata), "application/zip", $"{name}.keras"),
                "tfjs" => TypedResults.File(TfjsExporter.Export(model, state, name, metadata), "application/zip", $"{name}-tfjs.zip"),
                _ => TypedResults.File(OnnxExporter.Export(model, state, name, metadata), "application/octet-stream", $"{name}.onnx"),
            };
        }
        catch (SpecException e)
        {
            // The model is valid; this format cannot carry part of it. 422 names each layer and why.
            var problem = TypedResults.Problem(
                title: $"The model cannot be exported as {format}",
                detail: string.Join("; ", e.Errors.Select(x => $"{x.Path}: {x.Message}")),
                statusCode: StatusCodes.Status422UnprocessableEntity,
                extensions: new Dictionary<string, object?> { ["errors"] = e.Errors.ToDictionary(x => x.Path, x => x.Message) });
            return problem;
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }
}
