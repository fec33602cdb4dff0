using System.Net;
using TrainingService.Persistence.Runs;

namespace TrainingService.Api.Tests;

/// <summary>The test-set evaluation stored at the end of a classification run, and the dataset samples beside it.</summary>
public sealed class EvaluationTests() : ServiceTests(null)
{
    [Fact]
    public async Task SucceededClassifier_HasConfusionMatrixThatAgreesWithItsAccuracy_AndPerClassScores()
    {
        var client = _factory.CreateClient();
        var run = await client.WaitForEndAsync((await client.SubmitAsync(Specs.Digits(epochs: 3))).Id(), TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", run.Status());

        var evaluation = await (await client.GetAsync($"/api/runs/{run.Id()}/evaluation")).JsonAsync();

        var classes = evaluation.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), classes);
        var matrix = evaluation.GetProperty("confusion_matrix").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        var total = matrix.Sum(r => r.Sum());
        var diagonal = Enumerable.Range(0, 10).Sum(i => matrix[i][i]);
        Assert.InRange(total, 355, 362); // about 20 % of digits' 1797 examples
        Assert.Equal(total, evaluation.GetProperty("examples").GetInt64());
        // The engine's accuracy metric and the matrix's diagonal count the same predictions independently.
        Assert.Equal(run.GetProperty("metrics").GetProperty("accuracy").GetDouble(), (double)diagonal / total, 5);
        var perClass = evaluation.GetProperty("per_class").EnumerateArray().ToList();
        var three = perClass[3];
        Assert.Equal("3", three.GetProperty("class").GetString());
        Assert.Equal(matrix[3].Sum(), three.GetProperty("support").GetInt64());
        Assert.Equal((double)matrix[3][3] / matrix[3].Sum(), three.GetProperty("recall").GetDouble(), 5);
        Assert.Equal((double)matrix[3][3] / matrix.Sum(r => r[3]), three.GetProperty("precision").GetDouble(), 5);
        var wrong = evaluation.GetProperty("misclassified").EnumerateArray().ToList();
        Assert.Equal(Math.Min(total - diagonal, 32), wrong.Count);
        Assert.All(wrong, w =>
        {
            Assert.NotEqual(w.GetProperty("true_class").GetInt32(), w.GetProperty("predicted_class").GetInt32());
            Assert.Equal([8, 8], w.GetProperty("input").GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            Assert.Equal(64, w.GetProperty("input").GetProperty("values").GetArrayLength());
        });
    }

    [Theory]
    [InlineData(RunStatus.Queued, HttpStatusCode.Conflict)]
    [InlineData(RunStatus.Running, HttpStatusCode.Conflict)]
    [InlineData(RunStatus.Succeeded, HttpStatusCode.NotFound)]
    public async Task Evaluation_IsAProblem_WhenTheRunHasNone(RunStatus status, HttpStatusCode expected)
    {
        var run = TestData.QueuedRun();
        run.Status = status;
        await using (var db = _factory.NewDbContext())
        {
            db.Runs.Add(run);
            await db.SaveChangesAsync();
        }

        var response = await _factory.CreateClient().GetAsync($"/api/runs/{run.Id}/evaluation");

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Samples_ReturnStoredPixelsAndLabels_OfAnImageDataset()
    {
        var response = await _factory.CreateClient().GetAsync("/api/datasets/digits/samples?offset=10&count=5");
        var samples = await response.JsonAsync();
        Assert.True(response.IsSuccessStatusCode, samples.ToString());

        Assert.Equal([10, 11, 12, 13, 14], samples.EnumerateArray().Select(s => s.GetProperty("index").GetInt32()));
        Assert.All(samples.EnumerateArray(), s =>
        {
            Assert.Equal(64, s.GetProperty("values").GetArrayLength());
            Assert.InRange(s.GetProperty("values").EnumerateArray().Max(v => v.GetDouble()), 1, 16);
            Assert.Equal(s.GetProperty("label").GetInt32().ToString(), s.GetProperty("label_name").GetString());
        });
    }

    [Theory]
    [InlineData("/api/datasets/iris/samples", "name")]
    [InlineData("/api/datasets/digits/samples?split=validation", "split")]
    [InlineData("/api/datasets/digits/samples?count=0", "count")]
    public async Task Samples_Answer400NamingTheField_ForBadRequests(string url, string field)
    {
        var response = await _factory.CreateClient().GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }
}
