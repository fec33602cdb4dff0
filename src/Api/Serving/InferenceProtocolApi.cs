using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Limits;
using TrainingService.Api.Models;
using TrainingService.Api.Security;
using TrainingService.Persistence;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Serving;

/// <summary>
/// The Open Inference Protocol v2 over REST (KServe's "predict protocol v2", Triton's and MLServer's HTTP API): health,
/// server and model metadata, and inference with JSON tensors or the binary tensor data extension. A model is a model
/// name of the service; its versions are its succeeded runs, oldest first (<see cref="ModelVersions"/>). Tensors are the
/// model's own inputs and outputs in stored units (an image model takes its 0–255 pixels), unlike the service's own
/// predict endpoints, which also take raw files and text and decode classes.
/// </summary>
public static class InferenceProtocolApi
{
    public static IEndpointRouteBuilder MapInferenceProtocolApi(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2").WithTags("Open Inference Protocol (v2)");
        // Health answers by status code with an empty body, as the protocol's health API says; no credentials, like /health.
        v2.MapGet("/health/live", () => TypedResults.Ok()).WithName("V2Live").WithSummary("Server live (200, empty body)").AllowAnonymous();
        v2.MapGet("/health/ready", ServerReady).WithName("V2Ready").WithSummary("Server ready: the database answers").AllowAnonymous();
        v2.MapGet("/", GetServerMetadata).WithName("V2ServerMetadata").WithSummary("Server metadata and extensions").AllowAnonymous();

        var models = v2.MapGroup("/models/{name}").RequireAuthorization(Scopes.Predict);
        foreach (var prefix in new[] { "", "/versions/{version}" })
        {
            var versioned = prefix.Length > 0 ? "Version" : "";
            models.MapGet(prefix, GetModelMetadata).WithName($"V2Model{versioned}Metadata").WithSummary("Model metadata: versions, input and output tensors");
            models.MapGet(prefix + "/ready", GetModelReady).WithName($"V2Model{versioned}Ready").WithSummary("Model ready (200) or not found (404), empty body");
            // Inference counts against the caller's prediction rate, and takes bodies as large as the service's own predict.
            models.MapPost(prefix + "/infer", Infer).WithName($"V2{versioned}Infer")
                .RequireRateLimiting(RequestLimits.Predictions)
                .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(ModelsApi.MaxBodyBytes))
                .WithSummary("Inference: JSON tensors, or a JSON header then binary tensors (Inference-Header-Content-Length)")
                .Accepts<JsonElement>("application/json", "application/octet-stream");
        }
        return app;
    }

    public static async Task<Results<Ok, StatusCodeHttpResult>> ServerReady(IDbContextFactory<TrainingDbContext> contexts, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Database.CanConnectAsync(ct) ? TypedResults.Ok() : TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable);
    }

    public static JsonHttpResult<ServerMetadata> GetServerMetadata() =>
        TypedResults.Json(new ServerMetadata("trainingservice", typeof(InferenceProtocolApi).Assembly.GetName().Version?.ToString() ?? "0", ["binary_tensor_data"]),
            ServingJson.Default.ServerMetadata);

    public static async Task<Results<JsonHttpResult<ModelMetadata>, JsonHttpResult<InferenceError>>> GetModelMetadata(
        string name, string? version, [AsParameters] ServingServices services, CancellationToken ct)
    {
        var (runId, _, versions, error) = await services.ResolveAsync(name, version, ct);
        if (error is not null) return NotFound(error);
        var metadata = await services.Models.UseAsync(runId, model => new ModelMetadata(name,
            Enumerable.Range(1, versions!.Latest).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
            "torchsharp",
            model.Codec.Inputs.Select((input, k) => new TensorMetadata(InputName(model, k), Datatype(input), [-1, .. input.RawShape.Select(d => (long)d)])).ToList(),
            model.Plan.OutputNames.Zip(model.Plan.OutputShapes, (output, shape) => new TensorMetadata(output, "FP32", [-1, .. shape.Select(d => (long)d)])).ToList()), ct);
        return TypedResults.Json(metadata, ServingJson.Default.ModelMetadata);
    }

    public static async Task<Results<Ok, JsonHttpResult<InferenceError>>> GetModelReady(
        string name, string? version, [AsParameters] ServingServices services, CancellationToken ct)
    {
        // Ready means servable: restored on first use, so a model that exists is ready.
        var (_, _, _, error) = await services.ResolveAsync(name, version, ct);
        return error is null ? TypedResults.Ok() : NotFound(error);
    }

    public static async Task<Results<JsonHttpResult<InferResponse>, BinaryInferResult, JsonHttpResult<InferenceError>>> Infer(
        string name, string? version, HttpRequest request, [AsParameters] ServingServices services, CancellationToken ct)
    {
        long? headerLength = null;
        if (request.Headers.TryGetValue(InferRequest.HeaderLengthHeader, out var header))
        {
            if (!long.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h))
                return BadRequest($"{InferRequest.HeaderLengthHeader} must be a byte count; got '{header}'.");
            headerLength = h;
        }
        var (runId, v, _, error) = await services.ResolveAsync(name, version, ct);
        if (error is not null) return NotFound(error);

        using var infer = new InferRequest();
        using (var body = await RequestBody.ReadAsync(request, ct))
        {
            if (infer.Read(body.Bytes, headerLength) is { } invalid) return BadRequest(invalid);
        }
        var max = services.Options.Value.MaxInstances;
        if (infer.Inputs.Select(i => i.Shape!.FirstOrDefault()).Max() > max) return BadRequest($"At most {max} instances per request.");
        IReadOnlyList<RawOutput> outputs;
        try
        {
            outputs = await services.Predictions.ForwardAsync(runId, model => Encode(model, infer), RawOutputs.Read, ct);
        }
        catch (SpecException e)
        {
            return BadRequest(ServingServices.Describe(e));
        }

        var chosen = new List<(RawOutput Output, bool Binary)>();
        foreach (var wanted in infer.Outputs ?? outputs.Select(o => new RequestedOutput(o.Name, false)).ToList())
        {
            if (outputs.FirstOrDefault(o => o.Name == wanted.Name) is not { } output)
                return BadRequest($"Model '{name}' has no output '{wanted.Name}'; its outputs are {string.Join(", ", outputs.Select(o => o.Name))}.");
            chosen.Add((output, wanted.Binary || infer.BinaryOutputs));
        }
        var response = new InferResponse(name, v.ToString(System.Globalization.CultureInfo.InvariantCulture), infer.Id,
            chosen.Select(c => new InferOutput(c.Output.Name, c.Output.Shape, "FP32",
                c.Binary ? new OutputParameters(c.Output.Values.Length * sizeof(float)) : null, c.Binary ? null : c.Output.Values)).ToList());
        return chosen.Any(c => c.Binary)
            ? new BinaryInferResult(response, chosen.Where(c => c.Binary).Select(c => c.Output.Values).ToList())
            : TypedResults.Json(response, ServingJson.Default.InferResponse);
    }

    /// <summary>The request's tensors in the model's input order, matched by name (the model's input name, or the name
    /// the stored data gives it).</summary>
    private static Training.Data.ArrayDataset Encode(LoadedModel model, InferRequest infer)
    {
        var fitted = model.Codec.Inputs;
        var dense = new DenseInput[fitted.Count];
        var paths = new string[fitted.Count];
        var names = Enumerable.Range(0, fitted.Count).Select(k => InputName(model, k)).ToList();
        foreach (var (input, index) in infer.Inputs.Select((input, index) => (input, index)))
        {
            var k = names.IndexOf(input.Name!);
            if (k < 0) k = fitted.Select(f => f.Name).ToList().IndexOf(input.Name!);
            if (k < 0) throw new SpecException($"inputs[{index}]", $"the model has no input '{input.Name}'; its inputs are {string.Join(", ", names)}.");
            dense[k] = new DenseInput(input.Data.Array, input.Shape!);
            paths[k] = $"inputs[{index}] ('{input.Name}')";
        }
        var missing = names.Where((_, k) => paths[k] is null).ToList();
        if (missing.Count > 0) throw new SpecException("inputs", $"the model also needs input(s) {string.Join(", ", missing)}.");
        return model.Codec.EncodeDense(dense, paths);
    }

    private static string InputName(LoadedModel model, int k) => k < model.Plan.InputNames.Count ? model.Plan.InputNames[k] : model.Codec.Inputs[k].Name;

    private static string Datatype(FittedInput input) => input.Columns is not null || input.Text is not null ? "BYTES" : input.RawDType switch
    {
        "uint8" => "UINT8",
        "int32" => "INT32",
        _ => "FP32",
    };

    internal static JsonHttpResult<InferenceError> BadRequest(string error) =>
        TypedResults.Json(new InferenceError(error), ServingJson.Default.InferenceError, statusCode: StatusCodes.Status400BadRequest);

    internal static JsonHttpResult<InferenceError> NotFound(string error) =>
        TypedResults.Json(new InferenceError(error), ServingJson.Default.InferenceError, statusCode: StatusCodes.Status404NotFound);
}

/// <summary>A v2 inference response with the binary tensor data extension: the JSON (its length in
/// <c>Inference-Header-Content-Length</c>), then each binary output's float32 values, little-endian, in output order.</summary>
public sealed class BinaryInferResult(InferResponse response, IReadOnlyList<float[]> binary) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Binary tensors are written little-endian from a little-endian host only.");
        var json = JsonSerializer.SerializeToUtf8Bytes(response, ServingJson.Default.InferResponse);
        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers[InferRequest.HeaderLengthHeader] = json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentLength = json.Length + binary.Sum(b => (long)b.Length * sizeof(float));
        var writer = context.Response.BodyWriter;
        writer.Write(json);
        foreach (var values in binary) writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        await writer.FlushAsync(context.RequestAborted);
    }
}
