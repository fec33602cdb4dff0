using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;

namespace TrainingService.Api.Tests;

/// <summary>Every kind of bad request, against a service holding a trained run: each answers a 4xx ProblemDetails
/// and leaves every table exactly as it was.</summary>
public sealed class BadRequestTests() : ServiceTests(null)
{
    [Fact]
    public async Task EveryBadRequest_Answers4xxProblemDetails_AndLeavesTheDatabaseUnchanged()
    {
        var client = _factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 1, name: "kept"), "first-key")).Id();
        await client.WaitForEndAsync(id, TimeSpan.FromSeconds(90));
        var before = Snapshot();
        var jobs = _factory.JobCount();

        var requests = new (string Name, Func<Task<HttpResponseMessage>> Send, int Status)[]
        {
            ("malformed JSON", () => client.PostAsync("/api/runs", Specs.Json("{\"dataset\":")), 400),
            ("unknown layer", () => client.PostAsync("/api/runs", Specs.Json(Specs.Digits().Replace("\"Flatten\"", "\"Flattenn\""))), 400),
            ("unknown optimizer", () => client.PostAsync("/api/runs", Specs.Json(Specs.Digits().Replace("\"Adam\"", "\"Adamm\""))), 400),
            ("over the parameter limit", () => client.PostAsync("/api/runs", Specs.Json(Specs.Digits(units: 100_000_000))), 400),
            ("unknown dataset", () => client.PostAsync("/api/runs", Specs.Json(Specs.Digits().Replace("\"digits\"", "\"nope\""))), 400),
            ("reused idempotency key", () => Send(HttpMethod.Post, "/api/runs", Specs.Digits(epochs: 2), ("Idempotency-Key", "first-key")), 409),
            ("bad list filter", () => client.GetAsync("/api/runs?status=done"), 400),
            ("cancel an ended run", () => client.PostAsync($"/api/runs/{id}/cancel", null), 409),
            ("predict: wrong shape", () => client.PostAsync($"/api/runs/{id}/predict", Specs.Json("""{"instances": [[1, 2]]}""")), 400),
            ("predict: no instances", () => client.PostAsync($"/api/runs/{id}/predict", Specs.Json("""{"rows": []}""")), 400),
            ("predict: unknown model", () => client.PostAsync("/api/models/nobody/predict", Specs.Json(Specs.DigitInstances)), 404),
            ("weights: unknown kind", () => client.GetAsync($"/api/runs/{id}/weights?kind=all"), 400),
            ("delete: unknown run", () => client.DeleteAsync($"/api/runs/{Guid.NewGuid()}"), 404),
            ("upload: ragged CSV", () => client.PostAsync("/api/datasets", Csv("a,b\n1\n")), 400),
            ("upload: no file", () => client.PostAsync("/api/datasets", new MultipartFormDataContent { { new StringContent("x"), "other" } }), 400),
        };

        foreach (var (name, send, status) in requests)
        {
            var response = await send();
            Assert.True((int)response.StatusCode == status, $"{name}: answered {(int)response.StatusCode}, expected {status}");
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{name}: not a ProblemDetails");
            Assert.True(Snapshot() == before, $"{name}: the database changed");
        }
        Assert.Equal(jobs, _factory.JobCount());
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string url, string body, (string Name, string Value) header)
    {
        var request = new HttpRequestMessage(method, url) { Content = Specs.Json(body) };
        request.Headers.Add(header.Name, header.Value);
        return _factory.CreateClient().SendAsync(request);
    }

    private static MultipartFormDataContent Csv(string text)
    {
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return new MultipartFormDataContent { { file, "file", "data.csv" } };
    }

    /// <summary>Every row of every table, as text.</summary>
    private string Snapshot()
    {
        using var connection = new SqliteConnection($"Data Source={_factory.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var text = new StringBuilder();
        foreach (var table in new[] { "runs", "epoch_metrics", "run_weights" })
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {table} ORDER BY 1, 2";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                    text.Append(reader.GetValue(i) is byte[] blob ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(blob)) : reader.GetValue(i)).Append('|');
                text.AppendLine();
            }
        }
        return text.ToString();
    }
}
