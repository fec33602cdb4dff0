using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TrainingService.Api.Tests;

namespace TrainingService.ProcessTests;

/// <summary>The service as a separate process on a loopback port: the full tour over HTTP, and crash recovery
/// (SIGKILL in the middle of a run, restart, the run finishes from its checkpoint).</summary>
public sealed class ServiceProcessTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);   // a poll deadline, generous for a loaded machine
    private readonly ServiceFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task PublishedService_SubmitFollowPredictCancelDelete_OverHttp()
    {
        using var service = await ServiceProcess.StartAsync(_folder.Path);
        var client = service.Client;

        var id = (await client.SubmitAsync(Specs.Digits(epochs: 4, name: "tour"))).Id();
        var events = await client.ReadEventsAsync(id, Patience);
        Assert.Equal([1, 2, 3, 4], events.Where(e => e.Type == "epoch").Select(e => e.Data.GetProperty("epoch").GetInt32()));
        Assert.Equal("succeeded", events[^1].Data.GetProperty("status").GetString());

        var prediction = await client.PostJsonAsync("/api/models/tour/predict", Specs.DigitInstances);
        Assert.Equal(3, prediction.GetProperty("predictions").GetArrayLength());

        var slow = (await client.SubmitAsync(Specs.Digits(epochs: 500, batchSize: 4, name: "slow"))).Id();
        await client.WaitForAsync(slow, r => r.Status() == "running", Patience);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{slow}/cancel", null)).StatusCode);
        Assert.Equal("cancelled", (await client.WaitForEndAsync(slow, TimeSpan.FromSeconds(20))).Status());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
        Assert.Equal(0, service.Stop(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task KilledMidRun_RestartedService_ResumesFromCheckpoint_EachEpochExactlyOnce_SameResultAsUninterrupted()
    {
        const int epochs = 6;
        var spec = Specs.Digits(epochs: epochs, batchSize: 1, name: "crash", units: 64);
        Guid id;
        List<JsonElement> beforeKill;
        using (var first = await ServiceProcess.StartAsync(_folder.Path))
        {
            id = (await first.Client.SubmitAsync(spec)).Id();
            await first.Client.WaitForAsync(id, r => r.GetProperty("epochs_completed").GetInt32() >= 2, Patience);
            first.Kill();
            beforeKill = Metrics(id);
        }
        Assert.InRange(beforeKill.Count, 2, epochs - 1);
        Assert.Equal("running", Scalar($"SELECT Status FROM runs WHERE Id = '{id.ToString().ToUpperInvariant()}'"));

        using var second = await ServiceProcess.StartAsync(_folder.Path);
        var run = await second.Client.WaitForEndAsync(id, Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(2, run.GetProperty("attempts").GetInt32());
        var after = Metrics(id);
        Assert.Equal(Enumerable.Range(1, epochs), after.Select(m => m.GetProperty("epoch").GetInt32()));
        for (var i = 0; i < beforeKill.Count; i++)
            Assert.Equal(beforeKill[i].GetRawText(), after[i].GetRawText()); // not retrained, not rewritten
        Assert.Contains($"resumes after epoch {beforeKill.Count}", second.Log);

        // The same spec trained without interruption ends with the same numbers.
        var control = (await second.Client.SubmitAsync(spec.Replace("\"crash\"", "\"control\""))).Id();
        var controlRun = await second.Client.WaitForEndAsync(control, Patience);
        var uninterrupted = Metrics(control);
        for (var i = 0; i < epochs; i++)
            Assert.Equal(uninterrupted[i].GetProperty("loss").GetDouble(), after[i].GetProperty("loss").GetDouble(), 9);
        Assert.Equal(controlRun.GetProperty("metrics").GetProperty("accuracy").GetDouble(),
            run.GetProperty("metrics").GetProperty("accuracy").GetDouble(), 9);
    }

    [Fact]
    public async Task GracefulStop_HandsTheRunBack_AndTheNextStartResumesIt()
    {
        var spec = Specs.Digits(epochs: 5, batchSize: 1, name: "graceful", units: 64);
        Guid id;
        int recorded;
        using (var first = await ServiceProcess.StartAsync(_folder.Path))
        {
            id = (await first.Client.SubmitAsync(spec)).Id();
            await first.Client.WaitForAsync(id, r => r.GetProperty("epochs_completed").GetInt32() >= 1, Patience);
            Assert.Equal(0, first.Stop(TimeSpan.FromSeconds(30)));
            recorded = Metrics(id).Count;
        }
        Assert.Equal("queued", Scalar($"SELECT Status FROM runs WHERE Id = '{id.ToString().ToUpperInvariant()}'"));

        using var second = await ServiceProcess.StartAsync(_folder.Path);
        var run = await second.Client.WaitForEndAsync(id, Patience);

        Assert.Equal("succeeded", run.Status());
        Assert.Equal(Enumerable.Range(1, 5), Metrics(id).Select(m => m.GetProperty("epoch").GetInt32()));
        Assert.Contains($"resumes after epoch {recorded}", second.Log);
    }

    /// <summary>Each recorded epoch's logs, read from the database file (the service may be dead).</summary>
    private List<JsonElement> Metrics(Guid id)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder.Path, "training.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT Epoch, LogsJson FROM epoch_metrics WHERE RunId = $id ORDER BY Epoch";
        command.Parameters.AddWithValue("$id", id.ToString().ToUpperInvariant());
        var rows = new List<JsonElement>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var logs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(reader.GetString(1))!;
            logs["epoch"] = JsonSerializer.SerializeToElement(reader.GetInt32(0));
            rows.Add(JsonSerializer.SerializeToElement(logs.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary()));
        }
        return rows;
    }

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder.Path, "training.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
