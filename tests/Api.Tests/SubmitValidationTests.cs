using System.Net;
using System.Text;

namespace TrainingService.Api.Tests;

/// <summary>Every refused submission answers 400 ValidationProblem keyed by JSON path, and leaves the database
/// and the job queue exactly as they were.</summary>
public sealed class SubmitValidationTests() : ServiceTests(null)
{
    [Theory]
    [InlineData("{oops", "$")]
    [InlineData("[1,2]", "$")]
    [InlineData("\"text\"", "$")]
    [InlineData("{}", "dataset,model")]
    [InlineData("""{"dataset": 3, "model": "mlp"}""", "dataset,model")]
    [InlineData("""{"dataset": {"name": "digits"}, "model": null, "extra": true}""", "extra,model")]
    [InlineData("""{"name": "has space", "dataset": {"name": "digits"}}""", "model,name")]
    [InlineData("""{"name": 5, "dataset": {"name": "digits"}, "compile": [], "fit": 1}""", "compile,fit,model,name")]
    public async Task SubmitRun_Answers400KeyedByPath_AndWritesNothing(string body, string expectedKeys)
    {
        var client = _factory.CreateClient();
        var before = _factory.CountRows();
        var jobsBefore = _factory.JobCount();

        var response = await client.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        var keys = problem.ErrorKeys();
        foreach (var key in expectedKeys.Split(',')) Assert.Contains(key, keys);
        Assert.Equal(before, _factory.CountRows());
        Assert.Equal(jobsBefore, _factory.JobCount());
    }

    [Fact]
    public async Task SubmitRun_Answers400_WhenIdempotencyKeyIsTooLong()
    {
        var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", new string('k', 201));

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["Idempotency-Key"], (await response.JsonAsync()).ErrorKeys());
        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    [Fact]
    public async Task SubmitRun_Answers415ProblemDetails_WhenBodyIsNotJson()
    {
        var client = _factory.CreateClient();

        var response = await client.PostAsync("/api/runs", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((0, 0, 0), _factory.CountRows());
    }

    [Theory]
    [InlineData("status=weird", "status")]
    [InlineData("page=0", "page")]
    [InlineData("page_size=1000", "page_size")]
    public async Task ListRuns_Answers400KeyedByParameter_ForBadFilters(string query, string key)
    {
        var response = await _factory.CreateClient().GetAsync($"/api/runs?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([key], (await response.JsonAsync()).ErrorKeys());
    }
}
