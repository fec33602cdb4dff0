using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Limits;
using TrainingService.Api.Models;
using TrainingService.Api.Security;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Serving;

/// <summary>
/// TensorFlow Serving's REST API: <c>POST /v1/models/{name}[/versions/{v}]:predict</c> in the row format
/// (<c>{"instances": …}</c> → <c>{"predictions": …}</c>) and the columnar format (<c>{"inputs": …}</c> →
/// <c>{"outputs": …}</c>), and the model status. Instances are what the service's own predict endpoint takes (arrays,
/// base64 images, text, CSV records keyed by column); the answers are the model's raw outputs, as TF Serving gives them.
/// Errors are TF Serving's <c>{"error": "…"}</c>.
/// </summary>
public static class TfServingApi
{
    public static IEndpointRouteBuilder MapTfServingApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1/models").WithTags("TensorFlow Serving (v1)").RequireAuthorization(Scopes.Predict);
        v1.MapGet("/{name}", GetStatus).WithName("TfModelStatus").WithSummary("Model status: every version, AVAILABLE");
        v1.MapGet("/{name}/versions/{version}", GetStatus).WithName("TfModelVersionStatus").WithSummary("One version's status");
        v1.MapPost("/{name}:predict", Predict).WithName("TfPredict").WithSummary("Predict: row (instances) or columnar (inputs) format")
            .Accepts<JsonElement>("application/json")
            .RequireRateLimiting(RequestLimits.Predictions)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(ModelsApi.MaxBodyBytes));
        v1.MapPost("/{name}/versions/{version}:predict", Predict).WithName("TfPredictVersion").WithSummary("Predict with one version")
            .Accepts<JsonElement>("application/json")
            .RequireRateLimiting(RequestLimits.Predictions)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(ModelsApi.MaxBodyBytes));
        return app;
    }

    public static async Task<Results<JsonHttpResult<TfModelStatus>, JsonHttpResult<InferenceError>>> GetStatus(
        string name, string? version, [AsParameters] ServingServices services, CancellationToken ct)
    {
        var (_, v, versions, error) = await services.ResolveAsync(name, version, ct);
        if (error is not null) return InferenceProtocolApi.NotFound(error);
        var listed = version is null ? Enumerable.Range(1, versions!.Latest).Reverse() : [v];
        return TypedResults.Json(new TfModelStatus(listed.Select(n => new TfVersionStatus(
            n.ToString(System.Globalization.CultureInfo.InvariantCulture), "AVAILABLE", new TfStatus("OK", ""))).ToList()), ServingJson.Default.TfModelStatus);
    }

    public static async Task<Results<TfPredictResult, JsonHttpResult<InferenceError>>> Predict(
        string name, string? version, HttpRequest request, [AsParameters] ServingServices services, CancellationToken ct)
    {
        var (runId, _, _, error) = await services.ResolveAsync(name, version, ct);
        if (error is not null) return InferenceProtocolApi.NotFound(error);
        var max = services.Options.Value.MaxInstances;
        using var body = await RequestBody.ReadAsync(request, ct);
        try
        {
            using (var buffer = new FloatBuffer())
            {
                // A tensor of numbers is read straight into one buffer; anything else takes the general instance path.
                var shape = new List<int>();
                foreach (var format in Formats)
                {
                    if (!InstancesJson.TryReadDense(body.Bytes, format, buffer, shape)) continue;
                    if (shape[0] > max) return InferenceProtocolApi.BadRequest($"At most {max} instances per request; got {shape[0]}.");
                    DenseInput[] dense = [new DenseInput(buffer.Array, [.. shape])];
                    var outputs = await services.Predictions.ForwardAsync(runId, model => model.Codec.EncodeDense(dense, [format]), RawOutputs.Read, ct);
                    return new TfPredictResult(outputs, Rows: format == "instances");
                }
            }

            JsonElement root;
            try
            {
                using var doc = StrictJson.Parse(body.Bytes);
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return InferenceProtocolApi.BadRequest($"The body is not valid JSON: {e.Message}");
            }
            if (root.ValueKind != JsonValueKind.Object) return InferenceProtocolApi.BadRequest("The body must be a JSON object with \"instances\" or \"inputs\".");
            var hasRows = root.TryGetProperty("instances", out var rows);
            var hasColumns = root.TryGetProperty("inputs", out var columns);
            if (hasRows == hasColumns) return InferenceProtocolApi.BadRequest("The body must have exactly one of \"instances\" (row format) or \"inputs\" (columnar format).");
            var count = hasRows ? (rows.ValueKind == JsonValueKind.Array ? rows.GetArrayLength() : 1) : CountColumns(columns);
            if (count > max) return InferenceProtocolApi.BadRequest($"At most {max} instances per request; got {count}.");
            var result = await services.Predictions.ForwardAsync(runId,
                model => model.Codec.Encode(hasRows ? rows : ColumnsToRows(model, columns)), RawOutputs.Read, ct);
            return new TfPredictResult(result, Rows: hasRows);
        }
        catch (SpecException e)
        {
            return InferenceProtocolApi.BadRequest(ServingServices.Describe(e));
        }
    }

    private static readonly string[] Formats = ["instances", "inputs"];

    private static int CountColumns(JsonElement columns) => columns.ValueKind switch
    {
        JsonValueKind.Array => columns.GetArrayLength(),
        JsonValueKind.Object => columns.EnumerateObject().Select(p => p.Value.ValueKind == JsonValueKind.Array ? p.Value.GetArrayLength() : 1).DefaultIfEmpty(0).Max(),
        _ => 1,
    };

    /// <summary>The columnar format as rows: a list is already one item per instance; an object keyed by the model's
    /// (single) input name holds that list; any other object maps names (CSV columns) to one value per instance.</summary>
    private static JsonElement ColumnsToRows(LoadedModel model, JsonElement columns)
    {
        if (columns.ValueKind != JsonValueKind.Object) return columns;
        var names = model.Plan.InputNames.Concat(model.Codec.Inputs.Select(i => i.Name)).ToHashSet(StringComparer.Ordinal);
        var properties = columns.EnumerateObject().ToList();
        if (properties.Count == 1 && names.Contains(properties[0].Name)) return properties[0].Value;
        var count = CountColumns(columns);
        var rows = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            var row = new JsonObject();
            foreach (var p in properties)
            {
                if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() != count)
                    throw new SpecException($"inputs.{p.Name}", $"must be a list of {count} values, one per instance.");
                row[p.Name] = JsonNode.Parse(p.Value[i].GetRawText());
            }
            rows.Add(row);
        }
        return JsonSerializer.SerializeToElement(rows, TfJson.Default.JsonArray);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonArray))]
internal sealed partial class TfJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>TF Serving's answer: <c>{"predictions": [one item per instance]}</c> in the row format, where an item is
/// the output's values (or, for several outputs, an object keyed by output name); <c>{"outputs": …}</c> in the
/// columnar format, each output whole. Nested lists follow each output's shape, written straight to the response.</summary>
public sealed record TfPredictResult(IReadOnlyList<RawOutput> Outputs, bool Rows) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            writer.WriteStartObject();
            if (Rows)
            {
                writer.WriteStartArray("predictions");
                var n = Outputs.Count == 0 ? 0 : Outputs[0].Shape[0];
                for (var i = 0; i < n; i++)
                {
                    if (Outputs.Count == 1) WriteInstance(writer, Outputs[0], i);
                    else
                    {
                        writer.WriteStartObject();
                        foreach (var o in Outputs)
                        {
                            writer.WritePropertyName(o.Name);
                            WriteInstance(writer, o, i);
                        }
                        writer.WriteEndObject();
                    }
                }
                writer.WriteEndArray();
            }
            else if (Outputs.Count == 1)
            {
                writer.WritePropertyName("outputs");
                WriteNested(writer, Outputs[0].Values, Outputs[0].Shape);
            }
            else
            {
                writer.WriteStartObject("outputs");
                foreach (var o in Outputs)
                {
                    writer.WritePropertyName(o.Name);
                    WriteNested(writer, o.Values, o.Shape);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static void WriteInstance(Utf8JsonWriter writer, RawOutput output, long i)
    {
        var stride = (int)(output.Values.Length / Math.Max(1, output.Shape[0]));
        WriteNested(writer, output.Values.AsSpan((int)i * stride, stride), output.Shape.AsSpan(1));
    }

    /// <summary>Row-major values as nested lists of <paramref name="shape"/> (a bare number for no dimensions).</summary>
    private static void WriteNested(Utf8JsonWriter writer, ReadOnlySpan<float> values, ReadOnlySpan<long> shape)
    {
        if (shape.Length == 0)
        {
            if (float.IsFinite(values[0])) writer.WriteNumberValue(values[0]);
            else writer.WriteStringValue(values[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        writer.WriteStartArray();
        var stride = (int)(shape[0] == 0 ? 0 : values.Length / shape[0]);
        for (var k = 0; k < shape[0]; k++) WriteNested(writer, values.Slice(k * stride, stride), shape[1..]);
        writer.WriteEndArray();
    }
}
