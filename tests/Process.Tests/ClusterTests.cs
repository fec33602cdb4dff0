using System.Net;
using System.Text.Json;
using Npgsql;

using TrainingService.Api.Tests;

namespace TrainingService.ProcessTests;

/// <summary>
/// A fleet on PostgreSQL as separate OS processes of the built service: api nodes that train nothing, worker nodes
/// that serve only their health, all sharing one database. What one node does must reach the others: runs
/// spread over the workers and trained once each, live epochs on the api node's event stream, a dead worker's run
/// finished by the other from its checkpoint, a deleted run no longer predicted by any api node.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresServer postgres) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(240);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ts-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly string _database = postgres.NewDatabase();
    private readonly List<ServiceProcess> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        postgres.Drop(_database);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<ServiceProcess[]> StartAsync(params (string Role, (string, string)[] Extra)[] nodes)
    {
        var started = await Task.WhenAll(nodes.Select((n, i) => ServiceProcess.StartAsync(Path.Combine(_root, $"node{i}"),
        [
            ("Database:Provider", "postgres"),
            ("ConnectionStrings:Postgres", _database),
            ("Service:Role", n.Role),
            ("Training:LeaseSeconds", "6"),
            ("Training:RecoveryIntervalSeconds", "1"),
            .. n.Extra,
        ])));
        _nodes.AddRange(started);
        return started;
    }

    private static (string, (string, string)[]) Node(string role, params (string, string)[] extra) => (role, extra);

    [Fact]
    public async Task ApiAndTwoWorkers_TrainTwelveRunsOnceEach_OnBothWorkers_AndARunOnAnUpload_StreamEpochsLive_AndADeleteReachesEveryApiNode()
    {
        var nodes = await StartAsync(Node("api"), Node("api"), Node("worker"), Node("worker"));
        var (api, otherApi, workers) = (nodes[0].Client, nodes[1].Client, nodes[2..]);

        // The worker serves its health only; the api node takes no jobs.
        Assert.Equal(HttpStatusCode.NotFound, (await workers[0].Client.GetAsync("/api/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await workers[0].Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await workers[0].Client.GetAsync("/metrics")).StatusCode);
        Assert.DoesNotContain("job_server", await api.GetStringAsync("/health"));

        // A CSV uploaded to the api node is in the database: whichever worker takes its run reads it there.
        var upload = (await (await api.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv))).JsonAsync()).GetProperty("name").GetString()!;
        var tabular = (await api.SubmitAsync(Specs.SizesRun(upload))).Id();
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++) ids.Add((await api.SubmitAsync(Specs.Digits(epochs: 2, name: $"fleet-{i % 3}"))).Id());
        var streamed = api.ReadEventsAsync(ids[^1], Patience);

        foreach (var id in ids) Assert.Equal("succeeded", (await api.WaitForEndAsync(id, Patience)).Status());
        Assert.Equal("succeeded", (await api.WaitForEndAsync(tabular, Patience)).Status());
        Assert.Equal(["big", "small"], (await otherApi.PostJsonAsync($"/api/runs/{tabular}/predict", Specs.SizesInstances))
            .GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("label").GetString()));
        foreach (var id in ids)
        {
            Assert.Equal(1, (await api.GetRunAsync(id)).GetProperty("attempts").GetInt32());
            var metrics = await (await api.GetAsync($"/api/runs/{id}/metrics")).JsonAsync();
            Assert.Equal([1, 2], metrics.EnumerateArray().Select(m => m.GetProperty("epoch").GetInt32()));
        }
        // Each run finished on exactly one worker, and each worker finished some.
        var finishedBy = ids.Select(id => workers.Count(w => w.Log.Contains($"Run {id} succeeded"))).ToList();
        Assert.All(finishedBy, n => Assert.Equal(1, n));
        Assert.All(workers, w => Assert.Contains(ids, id => w.Log.Contains($"Run {id} succeeded")));

        // The api node streamed the epochs the workers recorded, as they were recorded, then the end.
        var events = await streamed;
        Assert.Equal([1, 2], events.Where(e => e.Type == "epoch").Select(e => e.Data.GetProperty("epoch").GetInt32()));
        Assert.Equal("succeeded", events[^1].Data.GetProperty("status").GetString());

        // Both api nodes serve the run (from their caches), then it is deleted through one: the other stops too.
        var deleted = ids[0];
        Assert.Equal(HttpStatusCode.OK, (await otherApi.PostAsync($"/api/runs/{deleted}/predict", Specs.Json(Specs.DigitInstances))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/runs/{deleted}/predict", Specs.Json(Specs.DigitInstances))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/runs/{deleted}")).StatusCode);
        await Eventually(async () => (await otherApi.PostAsync($"/api/runs/{deleted}/predict", Specs.Json(Specs.DigitInstances))).StatusCode == HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WorkerKilledMidRun_TheOtherWorkerFinishesItFromItsCheckpoint_EachEpochRecordedOnce()
    {
        const int epochs = 6;
        var nodes = await StartAsync(Node("api"), Node("worker"), Node("worker"));
        var api = nodes[0].Client;

        var id = (await api.SubmitAsync(Specs.Digits(epochs: epochs, batchSize: 1, name: "crash", units: 64))).Id();
        await api.WaitForAsync(id, r => r.GetProperty("epochs_completed").GetInt32() >= 2, Patience);
        var owner = LeaseOwner(id);
        var victim = nodes[1..].Single(w => owner.Contains($"/{w.Pid}."));
        var survivor = nodes[1..].Single(w => w != victim);
        victim.Kill();
        var beforeKill = await MetricsAsync(api, id);

        var run = await api.WaitForEndAsync(id, Patience);

        Assert.Equal("succeeded", run.Status());
        // At least the killed attempt and the survivor's; on a starved machine a late lease renewal can hand the run
        // over once more, which is correct as long as every epoch is still recorded once (below).
        Assert.True(run.GetProperty("attempts").GetInt32() >= 2, run.GetRawText());
        var after = await MetricsAsync(api, id);
        Assert.Equal(Enumerable.Range(1, epochs), after.Select(m => m.GetProperty("epoch").GetInt32()));
        for (var i = 0; i < beforeKill.Count; i++) Assert.Equal(beforeKill[i].GetRawText(), after[i].GetRawText());
        Assert.Contains($"Run {id} resumes after epoch", survivor.Log);
        Assert.Contains($"Run {id} succeeded", survivor.Log);
    }

    [Fact]
    public async Task TwoNodesStartingAtOnce_OnAnEmptyDatabase_BothComeUp_AndTheSchemaIsMigratedOnce()
    {
        var verbose = ("Logging:LogLevel:Microsoft.EntityFrameworkCore.Migrations", "Information");
        var nodes = await StartAsync(Node("all", verbose), Node("all", verbose));

        Assert.Equal(1, nodes.Count(n => n.Log.Contains("Applying migration")));
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM \"__EFMigrationsHistory\"", connection);
        var applied = (long)(await command.ExecuteScalarAsync())!;
        Assert.Equal(typeof(Persistence.Postgres.PostgresTrainingDbContext).Assembly.GetTypes()
            .Count(t => t.Namespace == "TrainingService.Persistence.MigrationsPostgres" && t.BaseType == typeof(Microsoft.EntityFrameworkCore.Migrations.Migration)), applied);
        foreach (var node in nodes) Assert.Equal(HttpStatusCode.OK, (await node.Client.GetAsync("/health")).StatusCode);
    }

    [Theory]
    [InlineData("mysql", "conn", "all", "Database:Provider 'mysql' is not supported")]
    [InlineData("postgres", "", "all", "ConnectionStrings:Postgres is not set")]
    [InlineData("postgres", "unreachable", "all", "is unreachable")]
    [InlineData("sqlite", "", "worker", "Service:Role 'worker' needs Database:Provider 'postgres'")]
    [InlineData("postgres", "conn", "trainer", "Service:Role 'trainer' is not a role")]
    public async Task BadConfiguration_StopsTheNodeAtStartUp_WithOneClearLine(string provider, string connection, string role, string message)
    {
        var connectionString = connection switch
        {
            "conn" => _database,
            "unreachable" => $"Host=127.0.0.1;Port={UnusedPort()};Database=x;Username=x;Timeout=3",
            _ => "",
        };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(_root,
            ("Database:Provider", provider), ("ConnectionStrings:Postgres", connectionString), ("Service:Role", role)));

        Assert.Contains("exited with 1", failure.Message);
        Assert.Contains($"TrainingService cannot start: ", failure.Message);
        Assert.Contains(message, failure.Message);
        Assert.DoesNotContain("Now listening", failure.Message);
    }

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string LeaseOwner(Guid id)
    {
        using var connection = new NpgsqlConnection(_database);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT \"LeaseOwner\" FROM runs WHERE \"Id\" = @id", connection);
        command.Parameters.AddWithValue("id", id);
        return (string)command.ExecuteScalar()!;
    }

    private static async Task<List<JsonElement>> MetricsAsync(HttpClient api, Guid id) =>
        (await (await api.GetAsync($"/api/runs/{id}/metrics")).JsonAsync()).EnumerateArray().ToList();

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met within 30 s");
            await Task.Delay(100);
        }
    }
}
