using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace TrainingService.Api.Tests;

/// <summary>Small, fast run specs on the bundled digits set, and client helpers for following runs.</summary>
public static class Specs
{
    public static string Digits(int epochs = 5, int batchSize = 32, string? name = "digits", int units = 32, double learningRate = 0.003) => $$"""
        {
          "name": {{(name is null ? "null" : $"\"{name}\"")}},
          "dataset": {"name": "digits", "preprocessing": {"rescale": 0.0625, "test_fraction": 0.2, "seed": 1} },
          "model": {"input_shape": [8, 8],
                    "layers": [{"type": "Flatten"},
                               {"type": "Dense", "units": {{units}}, "activation": "relu"},
                               {"type": "Dense", "units": 10, "activation": "softmax"}]},
          "compile": {"optimizer": {"type": "Adam", "learning_rate": {{learningRate}} },
                      "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
          "fit": {"epochs": {{epochs}}, "batch_size": {{batchSize}}, "validation_split": 0.1, "seed": 7 }
        }
        """;

    /// <summary>Three digits as the dataset stores them (8×8, values 0–16): a 0, a 1 and a 2.</summary>
    public const string DigitInstances = """
        {"instances": [
          [[0,0,5,13,9,1,0,0],[0,0,13,15,10,15,5,0],[0,3,15,2,0,11,8,0],[0,4,12,0,0,8,8,0],[0,5,8,0,0,9,8,0],[0,4,11,0,1,12,7,0],[0,2,14,5,10,12,0,0],[0,0,6,13,10,0,0,0]],
          [[0,0,0,12,13,5,0,0],[0,0,0,11,16,9,0,0],[0,0,3,15,16,6,0,0],[0,7,15,16,16,2,0,0],[0,0,1,16,16,3,0,0],[0,0,1,16,16,6,0,0],[0,0,1,16,16,6,0,0],[0,0,0,11,16,10,0,0]],
          [[0,0,0,4,15,12,0,0],[0,0,3,16,15,14,0,0],[0,0,8,13,8,16,0,0],[0,0,1,6,15,11,0,0],[0,1,8,13,15,1,0,0],[0,9,16,16,5,0,0,0],[0,3,13,16,16,11,5,0],[0,0,0,3,11,16,9,0]]
        ]}
        """;

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A CSV as the upload endpoint takes it (multipart field <c>file</c>).</summary>
    public static MultipartFormDataContent CsvFile(string text)
    {
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
        content.Add(file, "file", "data.csv");
        return content;
    }

    /// <summary>80 rows of two numbers and their class, "big" when they sum to more than 0.9.</summary>
    public static readonly string SizesCsv = "x1,x2,size\n" + string.Join("\n", Enumerable.Range(0, 80)
        .Select(i => (X1: i % 10 / 10.0, X2: i / 8 / 10.0))
        .Select(r => FormattableString.Invariant($"{r.X1},{r.X2},{(r.X1 + r.X2 > 0.9 ? "big" : "small")}"))) + "\n";

    /// <summary>A small classifier of <see cref="SizesCsv"/> once uploaded as <paramref name="dataset"/> (csv:&lt;id&gt;).</summary>
    public static string SizesRun(string dataset) => $$$"""
        {"dataset": {"name": "{{{dataset}}}", "target": "size", "preprocessing": {"test_fraction": 0.25, "seed": 1}},
         "model": {"input_shape": [2], "layers": [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dense", "units": 2, "activation": "softmax"}]},
         "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.05}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
         "fit": {"epochs": 40, "batch_size": 8, "seed": 1}}
        """;

    /// <summary>Raw rows for a <see cref="SizesRun"/> model: a big one, then a small one.</summary>
    public const string SizesInstances = """{"instances": [{"x1": 0.9, "x2": 0.8}, {"x1": 0.0, "x2": 0.1}]}""";

    public static async Task<JsonElement> SubmitAsync(this HttpClient client, string spec, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = Json(spec) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await client.SendAsync(request);
        var body = await response.JsonAsync();
        if ((int)response.StatusCode != 202) throw new Xunit.Sdk.XunitException($"submission answered {(int)response.StatusCode}: {body}");
        return body;
    }

    public static async Task<JsonElement> GetRunAsync(this HttpClient client, Guid id) =>
        await (await client.GetAsync($"/api/runs/{id}")).JsonAsync();

    /// <summary>Polls the run until <paramref name="done"/> holds; fails the test with the last state after the timeout.</summary>
    public static async Task<JsonElement> WaitForAsync(this HttpClient client, Guid id, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        JsonElement run;
        do
        {
            run = await client.GetRunAsync(id);
            if (done(run)) return run;
            await Task.Delay(50);
        } while (DateTime.UtcNow < until);
        throw new Xunit.Sdk.XunitException($"run {id} did not get there within {timeout}: {run}");
    }

    public static Task<JsonElement> WaitForEndAsync(this HttpClient client, Guid id, TimeSpan timeout) =>
        client.WaitForAsync(id, r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled", timeout);

    public static string Status(this JsonElement run) => run.GetProperty("status").GetString()!;

    public static Guid Id(this JsonElement run) => run.GetProperty("id").GetGuid();

    /// <summary>Reads the run's event stream to its end: (event type, data) in order of arrival.</summary>
    public static async Task<List<(string Type, JsonElement Data)>> ReadEventsAsync(this HttpClient client, Guid id, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var response = await client.GetAsync($"/api/runs/{id}/events", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Xunit.Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        var events = new List<(string, JsonElement)>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cts.Token))
            events.Add((item.EventType, JsonDocument.Parse(item.Data).RootElement.Clone()));
        return events;
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> PostJsonAsync(this HttpClient client, string url, string body) =>
        await (await client.PostAsync(url, Json(body))).JsonAsync();
}
