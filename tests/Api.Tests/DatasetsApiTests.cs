using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Preprocessing;

namespace TrainingService.Api.Tests;

public class DatasetsApiTests : IDisposable
{
    private readonly ServiceFactory _factory;

    public DatasetsApiTests() : this(null)
    {
    }

    /// <summary>With a server: the same tests on PostgreSQL (<see cref="DatasetsApiTestsOnPostgres"/>).</summary>
    protected DatasetsApiTests(PostgresServer? postgres)
    {
        Postgres = postgres;
        _factory = new ServiceFactory(postgres);
    }

    protected PostgresServer? Postgres { get; }

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
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
        Assert.Single(Directory.GetFiles(Path.Combine(_factory.Root, "uploads"), "*.csv"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/datasets/{name}")).StatusCode);
    }

    [Fact]
    public async Task Upload_Refuses400_ARaggedCsv_NamingTheLine()
    {
        var response = await _factory.CreateClient().PostAsync("/api/datasets", Csv("a,b\n1,2\n3\n"));
        var problem = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("line 3", string.Join(" ", problem.GetProperty("errors").EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(v => v.GetString()))));
        Assert.False(Directory.Exists(Path.Combine(_factory.Root, "uploads")) && Directory.GetFiles(Path.Combine(_factory.Root, "uploads"), "*.csv").Length > 0);
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
        var datasets = new CatalogDatasets(Options.Create(new StorageOptions { Root = _factory.Root }), new ConfigurationBuilder().Build());
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

    private static MultipartFormDataContent Csv(string text)
    {
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Add(file, "file", "data.csv");
        return content;
    }
}

/// <summary>Every test of <see cref="DatasetsApiTests"/>, run against a PostgreSQL database and Hangfire's PostgreSQL storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatasetsApiTestsOnPostgres(PostgresServer postgres) : DatasetsApiTests(postgres);
