using Microsoft.Data.Sqlite;

namespace TrainingService.ProcessTests;

/// <summary>The storage root of one test's service processes (database, checkpoints, models), under one folder for
/// this test project; deleted afterwards. A service started twice on the same folder sees what the first one left,
/// which is what the restart tests are about.</summary>
public sealed class ServiceFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ts-process-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        // The test's own SQLite connections would keep the database file open.
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
