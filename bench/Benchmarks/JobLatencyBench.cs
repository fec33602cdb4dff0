using Microsoft.Data.Sqlite;
using TrainingService.ProcessTests;

namespace TrainingService.Bench;

/// <summary>Per small run: POST /api/runs returning (client clock) → its first epoch starting, and its last epoch
/// ending → the run succeeded. Epoch boundaries come from the service's own records in its SQLite file
/// (<c>epoch_metrics.RecordedAt</c> minus <c>DurationSeconds</c>; <c>runs.FinishedAt</c>), which the API does not
/// expose; client and service share this machine's clock.</summary>
public sealed record JobLatencyResult(List<double> SubmitToFirstEpoch, List<double> LastEpochToSucceeded, List<double> SubmitToStarted);

public static class JobLatencyBench
{
    // The bundled digits set (1,797 8×8 images): data loading is not what this measures.
    public const string Spec = """
        {"name": "latency",
         "dataset": {"name": "digits", "preprocessing": {"rescale": 0.0625, "test_fraction": 0.2, "seed": 1}},
         "model": {"input_shape": [8, 8], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32, "activation": "relu"},
                   {"type": "Dense", "units": 10, "activation": "softmax"}]},
         "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
         "fit": {"epochs": 2, "batch_size": 64, "seed": 1}}
        """;

    public static async Task<JobLatencyResult> RunAsync(ServiceProcess service, string storageRoot, int runs, Action<string> log)
    {
        var result = new JobLatencyResult([], [], []);
        // One run first, not counted: the first run of a process pays for JIT and the dataset load.
        await service.WaitForSuccessAsync(await service.SubmitAsync(Spec), TimeSpan.FromMinutes(2));
        for (var i = 0; i < runs; i++)
        {
            var id = await service.SubmitAsync(Spec);
            var submitted = DateTimeOffset.UtcNow;
            await service.WaitForSuccessAsync(id, TimeSpan.FromMinutes(2), pollMs: 100);
            var (created, started, finished, firstStart, lastEnd) = Times(storageRoot, id);
            result.SubmitToFirstEpoch.Add((firstStart - submitted).TotalSeconds);
            result.LastEpochToSucceeded.Add((finished - lastEnd).TotalSeconds);
            result.SubmitToStarted.Add((started - created).TotalSeconds);
            log($"  run {i + 1}: submit → first epoch {result.SubmitToFirstEpoch[^1] * 1000:F0} ms, last epoch → succeeded {result.LastEpochToSucceeded[^1] * 1000:F0} ms");
        }
        return result;
    }

    private static (DateTimeOffset Created, DateTimeOffset Started, DateTimeOffset Finished, DateTimeOffset FirstStart, DateTimeOffset LastEnd)
        Times(string storageRoot, Guid id)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(storageRoot, "training.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var key = id.ToString().ToUpperInvariant();
        using var run = connection.CreateCommand();
        run.CommandText = "SELECT CreatedAt, StartedAt, FinishedAt FROM runs WHERE Id = $id";
        run.Parameters.AddWithValue("$id", key);
        using var r = run.ExecuteReader();
        if (!r.Read()) throw new InvalidOperationException($"run {id} not in the database");
        var (created, started, finished) = (At(r.GetInt64(0)), At(r.GetInt64(1)), At(r.GetInt64(2)));
        using var epochs = connection.CreateCommand();
        epochs.CommandText = "SELECT Epoch, RecordedAt, DurationSeconds FROM epoch_metrics WHERE RunId = $id ORDER BY Epoch";
        epochs.Parameters.AddWithValue("$id", key);
        using var e = epochs.ExecuteReader();
        var rows = new List<(DateTimeOffset Recorded, double Duration)>();
        while (e.Read()) rows.Add((At(e.GetInt64(1)), e.GetDouble(2)));
        return (created, started, finished, rows[0].Recorded - TimeSpan.FromSeconds(rows[0].Duration), rows[^1].Recorded);
    }

    private static DateTimeOffset At(long ticks) => new(ticks, TimeSpan.Zero);
}
