using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TrainingService.Api.Security;

namespace TrainingService.Api.Tests;

/// <summary>Two versions of one model name, trained once for every test of <see cref="InferenceProtocolTests"/>, on a
/// service that needs keys: team-a owns the model, team-b has its own key.</summary>
public sealed class ServedModelFixture : IAsyncLifetime
{
    public const string Name = "digits-served";
    public ServiceFactory Factory { get; } = new(("Auth:Mode", "keys"));
    public HttpClient TeamA { get; private set; } = null!;
    public HttpClient TeamB { get; private set; } = null!;
    public HttpClient ReadOnly { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TeamA = await ClientAsync("team-a", Scopes.RunsWrite, Scopes.Predict);
        TeamB = await ClientAsync("team-b", Scopes.RunsWrite, Scopes.Predict);
        ReadOnly = await ClientAsync("team-a", Scopes.RunsRead);
        Anonymous = Factory.CreateClient();
        foreach (var epochs in new[] { 1, 2 })
        {
            var id = (await TeamA.SubmitAsync(Specs.Digits(epochs: epochs, name: Name))).Id();
            Assert.Equal("succeeded", (await TeamA.WaitForEndAsync(id, TimeSpan.FromSeconds(120))).Status());
        }
    }

    private async Task<HttpClient> ClientAsync(string owner, params string[] scopes)
    {
        var key = await Factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync($"{owner}-{string.Join("-", scopes).Replace(':', '_')}", scopes, owner, null, "test", default);
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        return client;
    }

    public Task DisposeAsync()
    {
        Factory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The Open Inference Protocol v2 and TF Serving REST endpoints answer as their specifications' examples show
/// (the bodies below follow kserve's required_api.md, Triton's binary tensor data extension and TF Serving's REST API
/// document), against the service's own predict endpoint for the numbers.</summary>
public sealed class InferenceProtocolTests(ServedModelFixture served) : IClassFixture<ServedModelFixture>
{
    private const string Model = ServedModelFixture.Name;

    private static readonly float[][] Digits = JsonDocument.Parse(Specs.DigitInstances).RootElement.GetProperty("instances").EnumerateArray()
        .Select(i => i.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetSingle()).ToArray()).ToArray();

    /// <summary>The service's own answer for the three digits: the newest version's probabilities per instance.</summary>
    private async Task<double[][]> ExpectedAsync(HttpClient client)
    {
        var predictions = (await client.PostJsonAsync($"/api/models/{Model}/predict", Specs.DigitInstances)).GetProperty("predictions");
        return predictions.EnumerateArray().Select(p => p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
    }

    private async Task<(string Input, string Output)> TensorNamesAsync()
    {
        var metadata = await (await served.TeamA.GetAsync($"/v2/models/{Model}")).JsonAsync();
        return (metadata.GetProperty("inputs")[0].GetProperty("name").GetString()!, metadata.GetProperty("outputs")[0].GetProperty("name").GetString()!);
    }

    private static string Flat(IEnumerable<float[]> rows) => string.Join(", ", rows.SelectMany(r => r).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static void AssertError(JsonElement body)
    {
        // $inference_error_response = { "error": <error message string> }: one property, a string.
        var property = Assert.Single(body.EnumerateObject());
        Assert.Equal("error", property.Name);
        Assert.False(string.IsNullOrWhiteSpace(property.Value.GetString()));
    }

    [Fact]
    public async Task Health_AnswersByStatusCode_WithAnEmptyBody_WithoutCredentials()
    {
        foreach (var url in new[] { "/v2/health/live", "/v2/health/ready" })
        {
            using var response = await served.Anonymous.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("", await response.Content.ReadAsStringAsync());
        }
        var server = await (await served.Anonymous.GetAsync("/v2")).JsonAsync();
        Assert.Equal("trainingservice", server.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(server.GetProperty("version").GetString()));
        Assert.Contains("binary_tensor_data", server.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task ModelMetadata_ListsVersionsAndTensors_AndModelReadyAnswers200Or404()
    {
        var metadata = await (await served.TeamA.GetAsync($"/v2/models/{Model}")).JsonAsync();
        Assert.Equal(["name", "versions", "platform", "inputs", "outputs"], metadata.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Model, metadata.GetProperty("name").GetString());
        Assert.Equal(["1", "2"], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        var input = Assert.Single(metadata.GetProperty("inputs").EnumerateArray());
        Assert.Equal([-1, 8, 8], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.False(string.IsNullOrEmpty(input.GetProperty("datatype").GetString()));
        var output = Assert.Single(metadata.GetProperty("outputs").EnumerateArray());
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        Assert.Equal([-1, 10], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));

        foreach (var (url, status) in new[]
                 {
                     ($"/v2/models/{Model}/ready", HttpStatusCode.OK), ($"/v2/models/{Model}/versions/1/ready", HttpStatusCode.OK),
                     ($"/v2/models/{Model}/versions/3/ready", HttpStatusCode.NotFound), ("/v2/models/no-such-model/ready", HttpStatusCode.NotFound),
                 })
        {
            using var response = await served.TeamA.GetAsync(url);
            Assert.True(status == response.StatusCode, $"{url}: {(int)response.StatusCode}");
        }
        using var missing = await served.TeamA.GetAsync("/v2/models/no-such-model");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        AssertError(await missing.JsonAsync());
    }

    [Fact]
    public async Task Infer_AnswersTheSpecificationsExample_WithTheRequestedOutputFlattenedRowMajor()
    {
        var (input, output) = await TensorNamesAsync();
        var expected = await ExpectedAsync(served.TeamA);
        // The specification's example: an id, a batched input with its full shape and flattened data, one output by name.
        var request = $$"""
            {
              "id" : "42",
              "inputs" : [
                {
                  "name" : "{{input}}",
                  "shape" : [ 2, 8, 8 ],
                  "datatype" : "FP32",
                  "data" : [ {{Flat(Digits.Take(2))}} ]
                }
              ],
              "outputs" : [
                {
                  "name" : "{{output}}"
                }
              ]
            }
            """;
        using var response = await served.TeamA.PostAsync($"/v2/models/{Model}/infer", Specs.Json(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(["model_name", "model_version", "id", "outputs"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Model, body.GetProperty("model_name").GetString());
        Assert.Equal("2", body.GetProperty("model_version").GetString());
        Assert.Equal("42", body.GetProperty("id").GetString());
        var tensor = Assert.Single(body.GetProperty("outputs").EnumerateArray());
        Assert.Equal(["name", "shape", "datatype", "data"], tensor.EnumerateObject().Select(p => p.Name));
        Assert.Equal(output, tensor.GetProperty("name").GetString());
        Assert.Equal([2, 10], tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal("FP32", tensor.GetProperty("datatype").GetString());
        var data = tensor.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(20, data.Length);
        // Row-major: instance k's ten probabilities are data[10k .. 10k+9], the service's own probabilities for it.
        for (var k = 0; k < 2; k++)
            Assert.All(expected[k].Zip(data.Skip(10 * k).Take(10)), p => Assert.Equal(p.First, p.Second, 1e-5));

        // The natural (nested) representation of the same data gives the same answer.
        var nested = request.Replace($"[ {Flat(Digits.Take(2))} ]", JsonSerializer.Serialize(Digits.Take(2).Select(d => d.Chunk(8))));
        var again = await (await served.TeamA.PostAsync($"/v2/models/{Model}/infer", Specs.Json(nested))).JsonAsync();
        Assert.Equal(data, again.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));
    }

    [Fact]
    public async Task Infer_BinaryTensorData_RoundTripsFp32AndUint8Inputs_AndBinaryOutputs()
    {
        var (input, output) = await TensorNamesAsync();
        var expected = await ExpectedAsync(served.TeamA);
        foreach (var (datatype, size) in new[] { ("FP32", 4), ("UINT8", 1) })
        {
            var bytes = new byte[3 * 64 * size];
            for (var i = 0; i < 3 * 64; i++)
            {
                var v = Digits[i / 64][i % 64];
                if (size == 4) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), v);
                else bytes[i] = (byte)v;
            }
            // As Triton's extension example: the JSON header, its length in Inference-Header-Content-Length, then the tensor.
            var header = Encoding.UTF8.GetBytes($$$"""
                {"inputs": [{"name": "{{{input}}}", "shape": [3, 8, 8], "datatype": "{{{datatype}}}", "parameters": {"binary_data_size": {{{bytes.Length}}}}}],
                 "outputs": [{"name": "{{{output}}}", "parameters": {"binary_data": true}}]}
                """);
            var content = new ByteArrayContent([.. header, .. bytes]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var response = await served.TeamA.PostAsync($"/v2/models/{Model}/versions/2/infer", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var length = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
            var all = await response.Content.ReadAsByteArrayAsync();
            var json = JsonDocument.Parse(all.AsMemory(0, length)).RootElement;
            var tensor = Assert.Single(json.GetProperty("outputs").EnumerateArray());
            Assert.False(tensor.TryGetProperty("data", out _));
            Assert.Equal(3 * 10 * 4, tensor.GetProperty("parameters").GetProperty("binary_data_size").GetInt64());
            Assert.Equal([3, 10], tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            Assert.Equal(length + 3 * 10 * 4, all.Length);
            for (var k = 0; k < 3; k++)
            for (var c = 0; c < 10; c++)
                Assert.Equal(expected[k][c], BinaryPrimitives.ReadSingleLittleEndian(all.AsSpan(length + (k * 10 + c) * 4)), 1e-5);
        }
    }

    [Fact]
    public async Task Infer_Versions_AnswerWithTheirOwnRun_AndAnUnknownVersionIs404()
    {
        var (input, _) = await TensorNamesAsync();
        var request = $$"""{"inputs": [{"name": "{{input}}", "shape": [1, 8, 8], "datatype": "FP32", "data": [{{Flat(Digits.Take(1))}}]}]}""";
        var v1 = await (await served.TeamA.PostAsync($"/v2/models/{Model}/versions/1/infer", Specs.Json(request))).JsonAsync();
        var v2 = await (await served.TeamA.PostAsync($"/v2/models/{Model}/versions/2/infer", Specs.Json(request))).JsonAsync();
        Assert.Equal("1", v1.GetProperty("model_version").GetString());
        Assert.Equal("2", v2.GetProperty("model_version").GetString());
        // Trained for one and for two epochs: two different models.
        Assert.NotEqual(v1.GetProperty("outputs")[0].GetProperty("data").GetRawText(), v2.GetProperty("outputs")[0].GetProperty("data").GetRawText());
        using var none = await served.TeamA.PostAsync($"/v2/models/{Model}/versions/3/infer", Specs.Json(request));
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        AssertError(await none.JsonAsync());
    }

    [Theory]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [1, 8, 7], "datatype": "FP32", "data": [DATA]}]}""", "shape")]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [2, 8, 8], "datatype": "FP32", "data": [DATA]}]}""", "takes 128")]
    [InlineData("""{"inputs": [{"name": "nope", "shape": [1, 8, 8], "datatype": "FP32", "data": [DATA]}]}""", "no input 'nope'")]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [1, 8, 8], "datatype": "BYTES", "data": [DATA]}]}""", "BYTES")]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [1, 8, 8], "datatype": "FP32", "data": [DATA]}], "outputs": [{"name": "nope"}]}""", "no output 'nope'")]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [1, 8, 8], "datatype": "FP32", "data": [DATA]""", "not valid JSON")]
    // Found by the fuzzer: a binary_data_size that is not a number was a 500, and dimensions whose product overflows
    // a long could wrap to a small count.
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [1, 8, 8], "datatype": "FP32", "parameters": {"binary_data_size": {}}}]}""", "'binary_data_size' must be")]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [1, 8, 8], "datatype": "FP32", "parameters": {"binary_data_size": -256}}]}""", "'binary_data_size' must be")]
    [InlineData("""{"inputs": [{"name": "INPUT", "shape": [65535, 42009217, 6700417], "datatype": "FP32", "data": [DATA]}]}""", "too large")]
    public async Task Infer_RefusedRequest_Answers400_WithTheV2ErrorObject(string template, string mentions)
    {
        var (input, _) = await TensorNamesAsync();
        var request = template.Replace("INPUT", input).Replace("DATA", Flat(Digits.Take(1)));
        using var response = await served.TeamA.PostAsync($"/v2/models/{Model}/infer", Specs.Json(request));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        AssertError(body);
        Assert.Contains(mentions, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Infer_InvalidUtf8InAName_Answers400_WithTheV2ErrorObject()
    {
        // Utf8JsonReader decodes a string only when it is read: the bad bytes were an InvalidOperationException, a 500.
        var (input, _) = await TensorNamesAsync();
        var request = $$"""{"inputs": [{"name": "{{input}}", "shape": [1, 8, 8], "datatype": "FP32", "data": [{{Flat(Digits.Take(1))}}]}], "id": "X"}""";
        var bytes = System.Text.Encoding.UTF8.GetBytes(request);
        bytes[Array.LastIndexOf(bytes, (byte)'X')] = 0xff;
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await served.TeamA.PostAsync($"/v2/models/{Model}/infer", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        AssertError(body);
        Assert.Contains("UTF-8", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TfServing_RowAndColumnarFormats_AnswerPredictionsAndOutputs_AsTheRestApiDocumentShows()
    {
        var expected = await ExpectedAsync(served.TeamA);
        // Row format: {"signature_name": …, "instances": [one item per instance]} → {"predictions": [one item per instance]}.
        var rows = await served.TeamA.PostJsonAsync($"/v1/models/{Model}:predict",
            Specs.DigitInstances.Replace("{\"instances\"", "{\"signature_name\": \"serving_default\", \"instances\""));
        Assert.Equal("predictions", Assert.Single(rows.EnumerateObject()).Name);
        var predictions = rows.GetProperty("predictions").EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        Assert.Equal(3, predictions.Length);
        for (var k = 0; k < 3; k++) Assert.All(expected[k].Zip(predictions[k]), p => Assert.Equal(p.First, p.Second, 1e-5));

        // Columnar format: {"inputs": …} → {"outputs": …}, the output whole.
        var columns = await served.TeamA.PostJsonAsync($"/v1/models/{Model}/versions/2:predict", Specs.DigitInstances.Replace("\"instances\"", "\"inputs\""));
        Assert.Equal("outputs", Assert.Single(columns.EnumerateObject()).Name);
        Assert.Equal(rows.GetProperty("predictions").GetRawText(), columns.GetProperty("outputs").GetRawText());

        // Version 1 is another model.
        var first = await served.TeamA.PostJsonAsync($"/v1/models/{Model}/versions/1:predict", Specs.DigitInstances);
        Assert.NotEqual(rows.GetProperty("predictions").GetRawText(), first.GetProperty("predictions").GetRawText());
    }

    [Fact]
    public async Task TfServing_ModelStatus_ListsEveryVersionAvailable_AndErrorsAreTheErrorObject()
    {
        var status = await (await served.TeamA.GetAsync($"/v1/models/{Model}")).JsonAsync();
        Assert.Equal("""{"model_version_status":[{"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}},{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}""",
            status.GetRawText());
        var one = await (await served.TeamA.GetAsync($"/v1/models/{Model}/versions/1")).JsonAsync();
        Assert.Equal("1", Assert.Single(one.GetProperty("model_version_status").EnumerateArray()).GetProperty("version").GetString());

        foreach (var (url, body, code) in new[]
                 {
                     ($"/v1/models/{Model}:predict", """{"instances": [[1, 2, 3]]}""", HttpStatusCode.BadRequest),
                     ($"/v1/models/{Model}:predict", """{"instances": [], "inputs": []}""", HttpStatusCode.BadRequest),
                     ($"/v1/models/{Model}:predict", """{"instances": [[1, 2""", HttpStatusCode.BadRequest),
                     ("/v1/models/no-such-model:predict", Specs.DigitInstances, HttpStatusCode.NotFound),
                     ($"/v1/models/{Model}/versions/9:predict", Specs.DigitInstances, HttpStatusCode.NotFound),
                 })
        {
            using var response = await served.TeamA.PostAsync(url, Specs.Json(body));
            Assert.True(code == response.StatusCode, $"{url} {body}: {(int)response.StatusCode}");
            AssertError(await response.JsonAsync());
        }
    }

    [Fact]
    public async Task AnotherTeamsModel_IsNotFound_AndTheEndpointsNeedThePredictScope()
    {
        var (input, _) = await TensorNamesAsync();
        var infer = $$"""{"inputs": [{"name": "{{input}}", "shape": [1, 8, 8], "datatype": "FP32", "data": [{{Flat(Digits.Take(1))}}]}]}""";
        var calls = new (string Method, string Url, string? Body)[]
        {
            ("GET", $"/v2/models/{Model}", null), ("GET", $"/v2/models/{Model}/ready", null), ("POST", $"/v2/models/{Model}/infer", infer),
            ("POST", $"/v2/models/{Model}/versions/1/infer", infer), ("GET", $"/v1/models/{Model}", null),
            ("POST", $"/v1/models/{Model}:predict", Specs.DigitInstances), ("POST", $"/api/models/{Model}/predict", Specs.DigitInstances),
        };
        foreach (var (client, status) in new[] { (served.TeamB, HttpStatusCode.NotFound), (served.ReadOnly, HttpStatusCode.Forbidden), (served.Anonymous, HttpStatusCode.Unauthorized) })
        {
            foreach (var (method, url, body) in calls)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = body is null ? null : Specs.Json(body) };
                using var response = await client.SendAsync(request);
                Assert.True(status == response.StatusCode, $"{method} {url}: {(int)response.StatusCode}, expected {(int)status}");
            }
        }
    }
}
