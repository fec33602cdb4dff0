using System.Collections.Concurrent;

namespace TrainingService.Training.Datasets;

/// <summary>
/// Loads each dataset once per process and shares it between runs (thread-safe). The key is the dataset name plus
/// the options that decide which files are read; concurrent requests for the same key wait for one load. A failed
/// load is not cached, so a later request (after the files were put in place) tries again.
/// </summary>
public sealed class DatasetCache(DatasetLoader loader) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<RawDataset>>> _entries = new(StringComparer.Ordinal);

    public DatasetLoader Loader => loader;

    public async Task<RawDataset> GetAsync(string name, CancellationToken cancellationToken)
    {
        var key = $"{name}|{loader.Options.Root}|{string.Join(';', loader.Options.FashionMnistSystemFolders)}";
        var lazy = _entries.GetOrAdd(key, _ => new Lazy<Task<RawDataset>>(
            () => loader.LoadAsync(name, CancellationToken.None), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _entries.TryRemove(new KeyValuePair<string, Lazy<Task<RawDataset>>>(key, lazy));
            throw;
        }
    }

    public int Count => _entries.Count(e => e.Value.IsValueCreated && e.Value.Value.IsCompletedSuccessfully);

    public void Dispose()
    {
        foreach (var e in _entries.Values)
        {
            if (e.IsValueCreated && e.Value.IsCompletedSuccessfully) e.Value.Result.Dispose();
        }
        _entries.Clear();
    }
}
