using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Preprocessing;

namespace TrainingService.Api.Tests;

public class DatasetsApiTests : ServiceTests
{

    public DatasetsApiTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="DatasetsApiTestsOnPostgres"/>).</summary>
    protected DatasetsApiTests(PostgresServer? postgres) : base(postgres)
    {
    }

    [Fact]
    public async Task List_ShowsBundledSetsAvailable_AndMissingOnesWithInstructions()
    {
        var list = await (await _factory.CreateClient().GetAsync("/api/datasets")).JsonAsync();
        var byName = list.EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!);

        Assert.True(byName["digits"].GetProperty("available").GetBoolean());
        Assert.True(byName["iris"].GetProperty("available").GetBoolean());
        Assert.Equal(["setosa", "versicolor", "virginica"], byName["iris"].GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.False(byName["cifar10"].GetProperty("available").GetBoolean());
        Assert.Contains("cifar10", byName["cifar10"].GetProperty("how_to_install").GetString());
    }

    [Fact]
    public async Task Get_Answers404ProblemDetails_ForUnknownDataset()
    {
        var response = await _factory.CreateClient().GetAsync("/api/datasets/no-such-set");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Upload_StoresCsvOnce_AndReportsItsColumns()
    {
        var client = _factory.CreateClient();
        const string csv = "size,colour,price\n1.5,red,10\n2.0,blue,12\n,red,9\n";

        var first = await client.PostAsync("/api/datasets", Csv(csv));
        var again = await client.PostAsync("/api/datasets", Csv(csv));
        var body = await first.JsonAsync();
        var name = body.GetProperty("name").GetString()!;

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.StartsWith("csv:", name);
        Assert.Equal(name, (await again.JsonAsync()).GetProperty("name").GetString());
        Assert.Equal(["size", "colour", "price"], body.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(1, _factory.Count("dataset_uploads"));
        Assert.False(Directory.Exists(Path.Combine(_factory.Root, "uploads")), "uploads live in the database, not on this node's disk");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/datasets/{name}")).StatusCode);
    }

    [Fact]
    public async Task RunOnAnUpload_Trains_AndItsModelPredictsFromRawRows()
    {
        var client = _factory.CreateClient();
        var name = (await (await client.PostAsync("/api/datasets", Csv(Specs.SizesCsv))).JsonAsync()).GetProperty("name").GetString()!;

        var id = (await client.SubmitAsync(Specs.SizesRun(name))).Id();
        var run = await client.WaitForEndAsync(id, TimeSpan.FromMinutes(3));
        var predicted = await client.PostJsonAsync($"/api/runs/{id}/predict", Specs.SizesInstances);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(["big", "small"], predicted.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("label").GetString()));
    }

    [Fact]
    public async Task UploadFilesFromBeforeTheDatabase_AreImportedAtStartUp_AndStayUsable()
    {
        var bytes = Encoding.UTF8.GetBytes("x,y\n1,a\n2,b\n3,a\n");
        var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        Directory.CreateDirectory(Path.Combine(_factory.Root, "uploads"));
        File.WriteAllBytes(Path.Combine(_factory.Root, "uploads", id + ".csv"), bytes);

        var response = await _factory.CreateClient().GetAsync($"/api/datasets/csv:{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, (await response.JsonAsync()).GetProperty("splits").GetProperty("rows").GetInt32());
        Assert.True(File.Exists(Path.Combine(_factory.Root, "uploads", id + ".csv")), "the files are left where they were");
    }

    [Fact]
    public async Task Upload_IsListedWithItsColumns_AndDeleteRemovesIt()
    {
        var client = _factory.CreateClient();
        var name = (await (await client.PostAsync("/api/datasets", Csv("x,y\n1,a\n2,b\n"))).JsonAsync()).GetProperty("name").GetString()!;

        var listed = (await (await client.GetAsync("/api/datasets")).JsonAsync()).EnumerateArray().Single(d => d.GetProperty("name").GetString() == name);
        var deleted = await client.DeleteAsync($"/api/datasets/{name}");

        Assert.Equal(["x", "y"], listed.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, _factory.Count("dataset_uploads"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/datasets/digits")).StatusCode);
    }

    [Fact]
    public async Task Delete_IsRefused409_WhileAQueuedRunNeedsTheUpload()
    {
        var client = _factory.CreateClient();
        var name = (await (await client.PostAsync("/api/datasets", Csv("x,y\n1,a\n2,b\n3,a\n4,b\n"))).JsonAsync()).GetProperty("name").GetString()!;
        using (var db = _factory.NewDbContext())
        {
            // A queued run naming the upload, as a submission writes it (no job server needed for the check).
            db.Runs.Add(new TrainingService.Persistence.Runs.Run
            {
                Id = Guid.NewGuid(), Status = TrainingService.Persistence.Runs.RunStatus.Queued, CreatedAt = DateTimeOffset.UtcNow,
                SpecJson = $$$"""{"dataset": {"name": "{{{name}}}", "target": "y"}}""",
            });
            db.SaveChanges();
        }

        var response = await client.DeleteAsync($"/api/datasets/{name}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, _factory.Count("dataset_uploads"));
    }

    [Fact]
    public async Task Upload_Refuses400_ARaggedCsv_NamingTheLine()
    {
        var response = await _factory.CreateClient().PostAsync("/api/datasets", Csv("a,b\n1,2\n3\n"));
        var problem = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("line 3", string.Join(" ", problem.GetProperty("errors").EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(v => v.GetString()))));
        Assert.Equal(0, _factory.Count("dataset_uploads"));
    }

    [Theory]
    [InlineData("""{"name": "no-such-set"}""", "dataset.name")]
    [InlineData("""{"name": "cifar10"}""", "dataset.name")]
    [InlineData("""{"name": "digits", "preprocessing": {"rescale": -1}}""", "dataset.preprocessing.rescale")]
    [InlineData("""{"name": "digits", "colour": true}""", "dataset.colour")]
    public async Task SubmitRun_Answers400AtTheDatasetPath_AndWritesNothing(string dataset, string path)
    {
        var body = $$"""{"dataset": {{dataset}}}""";

        var response = await _factory.CreateClient().PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(path, (await response.JsonAsync()).ErrorKeys());
        Assert.Equal((0, 0, 0), _factory.CountRows());
        Assert.Equal(0, _factory.JobCount());
    }

    [Theory]
    [InlineData("""{"name": "digits"}""")]
    [InlineData("""{"name": "digits", "preprocessing": {"reshape": [64], "rescale": 0.0625}}""")]
    [InlineData("""{"name": "digits", "preprocessing": {"one_hot_labels": true}}""")]
    [InlineData("""{"name": "iris", "preprocessing": {"standardize": true, "one_hot_labels": false}}""")]
    public void StaticSignature_EqualsTheSignatureOfThePreparedData(string dataset)
    {
        using var scope = _factory.Services.CreateScope();
        var datasets = scope.ServiceProvider.GetRequiredService<IDatasets>();
        using var spec = JsonDocument.Parse(dataset);

        var check = datasets.Check(spec.RootElement);
        using var prepared = datasets.Prepare(spec.RootElement, CancellationToken.None);
        var fitted = FittedPreprocessing.FromJson(prepared.PreprocessingJson).Signature;

        Assert.Empty(check.Errors);
        Assert.Equal(Describe(fitted), Describe(check.Signature!));
    }

    private static string Describe(TrainingService.Training.Engine.DataSignature s) =>
        string.Join(";", s.Inputs.Select(i => $"in[{string.Join(",", i.Shape)}]{i.IsInteger}")) + "|" +
        string.Join(";", s.Targets.Select(t => $"out[{string.Join(",", t.Shape)}]{t.IsInteger}{t.Classes}"));

    private static MultipartFormDataContent Csv(string text) => Specs.CsvFile(text);
}

/// <summary>Every test of <see cref="DatasetsApiTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatasetsApiTestsOnPostgres(PostgresServer postgres) : DatasetsApiTests(postgres);
