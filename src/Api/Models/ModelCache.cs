using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Observability;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Models;

/// <summary>A trained model restored for serving, with what its inputs need to be prepared.</summary>
public sealed class LoadedModel(Guid runId, string? name, TrainingPlan plan, ModelSession session, IPredictionCodec codec, long bytes) : IDisposable
{
    private readonly Lock _gate = new();
    private int _users;
    private bool _evicted;
    private bool _disposed;
    private PredictionBatcher? _batcher;

    public Guid RunId { get; } = runId;
    public string? Name { get; } = name;
    public TrainingPlan Plan { get; } = plan;
    public ModelSession Session { get; } = session;
    public IPredictionCodec Codec { get; } = codec;

    /// <summary>Memory its weights take (the stored state: parameters and buffers).</summary>
    public long Bytes { get; } = bytes;

    internal bool TryEnter()
    {
        lock (_gate)
        {
            if (_disposed) return false;
            _users++;
            return true;
        }
    }

    internal void Leave()
    {
        lock (_gate)
        {
            _users--;
            DisposeIfIdle();
        }
    }

    internal void Evict()
    {
        lock (_gate)
        {
            _evicted = true;
            DisposeIfIdle();
        }
    }

    /// <summary>This model's dynamic batcher, created on first use; it goes with the model. Call only while entered.</summary>
    internal PredictionBatcher Batcher(Func<LoadedModel, PredictionBatcher> create)
    {
        lock (_gate) return _batcher ??= create(this);
    }

    private void DisposeIfIdle()
    {
        if (_users > 0 || !_evicted || _disposed) return;
        _disposed = true;
        // No request holds the model, so its batcher has nothing taken and nothing to forward.
        _batcher?.Dispose();
        Session.Dispose();
    }

    public void Dispose() => Evict();
}

/// <summary>
/// Restored models, bounded by count (<c>Prediction:CacheSize</c>) and by the memory their weights take
/// (<c>Prediction:CacheMegabytes</c>), least-recently-used first out; the model just loaded always stays, however
/// large. Concurrent first requests for one run restore it once. An evicted model is disposed only when the last
/// request using it has finished.
/// </summary>
public sealed class ModelCache : IDisposable
{
    private const string Topic = "evict";
    private readonly IDbContextFactory<TrainingDbContext> _contexts;
    private readonly IOptions<PredictionOptions> _options;
    private readonly IOptions<TrainingOptions> _training;
    private readonly IClusterSignals _cluster;
    private readonly ServiceMetrics _metrics;
    private readonly Lock _gate = new();
    private readonly LinkedList<(Guid Id, Lazy<Task<LoadedModel>> Model)> _order = new();
    private readonly Dictionary<Guid, LinkedListNode<(Guid Id, Lazy<Task<LoadedModel>> Model)>> _index = [];

    public ModelCache(IDbContextFactory<TrainingDbContext> contexts, IOptions<PredictionOptions> options,
        IOptions<TrainingOptions> training, ServiceMetrics metrics, IClusterSignals cluster)
    {
        _metrics = metrics;
        _contexts = contexts;
        _options = options;
        _training = training;
        _cluster = cluster;
        // A run deleted through another node leaves this cache too; after lost signals nothing cached can be trusted.
        cluster.Subscribe(Topic, RemoveHere, Clear);
    }

    public int Count
    {
        get { lock (_gate) return _index.Count; }
    }

    /// <summary>Memory taken by the weights of the loaded models.</summary>
    public long Bytes
    {
        get { lock (_gate) return Loaded().Sum(m => m.Bytes); }
    }

    /// <summary>Runs <paramref name="use"/> with the restored model of a succeeded run.</summary>
    public async Task<T> UseAsync<T>(Guid runId, Func<LoadedModel, T> use, CancellationToken ct)
    {
        var model = await AcquireAsync(runId, ct);
        try
        {
            return use(model);
        }
        finally
        {
            model.Leave();
        }
    }

    /// <summary>The restored model, held until <see cref="LoadedModel.Leave"/> (it is not disposed before that).</summary>
    internal async Task<LoadedModel> AcquireAsync(Guid runId, CancellationToken ct)
    {
        LoadedModel? model;
        while ((model = await TryAcquireAsync(runId, ct)) is null) { } // evicted meanwhile: restore again
        return model;
    }

    private async Task<LoadedModel?> TryAcquireAsync(Guid runId, CancellationToken ct)
    {
        Entry entry;
        var hit = false;
        lock (_gate)
        {
            if (_index.TryGetValue(runId, out var node))
            {
                hit = true;
                _order.Remove(node);
                _order.AddFirst(node);
                entry = (Entry)node.Value.Model;
            }
            else
            {
                Entry? created = null;
                entry = created = new Entry(() => Task.Run(async () =>
                {
                    var loaded = await LoadAsync(runId);
                    Kept(created!, KeepWithinMemory(runId, created!, loaded.Bytes), loaded); // memory only grows when a model is added
                    return loaded;
                }));
                _index[runId] = _order.AddFirst((runId, entry));
                while (_index.Count > Math.Max(1, _options.Value.CacheSize))
                {
                    var last = _order.Last!;
                    _order.RemoveLast();
                    _index.Remove(last.Value.Id);
                    if (last.Value.Model.IsValueCreated && last.Value.Model.Value.IsCompletedSuccessfully)
                        last.Value.Model.Value.Result.Evict();
                }
            }
            entry.Waiters++;
        }
        try
        {
            var model = await entry.Value.WaitAsync(ct);
            _metrics.ModelLookedUp(model.Name ?? runId.ToString(), hit);
            return model.TryEnter() ? model : null;
        }
        catch (Exception) when (entry.Value.IsFaulted)
        {
            Forget(runId, entry);
            throw;
        }
        finally
        {
            lock (_gate)
            {
                // The last request that waited for a model dropped while it loaded hands it over to disposal.
                if (--entry.Waiters == 0 && entry.Dropped) entry.Value.Result.Evict();
            }
        }
    }

    /// <summary>A model dropped while it loaded (its run deleted, or pushed out by count) serves the requests that waited
    /// for it, then is disposed; with no one waiting, at once.</summary>
    private void Kept(Entry entry, bool kept, LoadedModel loaded)
    {
        if (kept) return;
        lock (_gate)
        {
            entry.Dropped = true;
            if (entry.Waiters == 0) loaded.Evict();
        }
    }

    /// <summary>Called as <paramref name="keep"/> finishes loading (<paramref name="keepBytes"/>): evicts least
    /// recently used loaded models, never that one, while together they take more than the memory budget. Models
    /// still loading are not counted until they are loaded. False when <paramref name="keep"/> itself was dropped while
    /// it loaded (deleted, or pushed out by count).</summary>
    private bool KeepWithinMemory(Guid keep, Entry keepEntry, long keepBytes)
    {
        var budget = (long)(Math.Max(0, _options.Value.CacheMegabytes) * 1024 * 1024);
        lock (_gate)
        {
            // Dropped, and perhaps asked for again: then the index holds another entry for the same run.
            if (!_index.TryGetValue(keep, out var kept) || !ReferenceEquals(kept.Value.Model, keepEntry)) return false;
            var total = keepBytes + Loaded().Sum(m => m.Bytes);
            var node = _order.Last;
            while (total > budget && node is not null)
            {
                var previous = node.Previous;
                if (node.Value.Id != keep && node.Value.Model.IsValueCreated && node.Value.Model.Value.IsCompletedSuccessfully)
                {
                    var model = node.Value.Model.Value.Result;
                    _order.Remove(node);
                    _index.Remove(node.Value.Id);
                    model.Evict();
                    total -= model.Bytes;
                }
                node = previous;
            }
            return true;
        }
    }

    private IEnumerable<LoadedModel> Loaded() => _order
        .Where(e => e.Model.IsValueCreated && e.Model.Value.IsCompletedSuccessfully)
        .Select(e => e.Model.Value.Result);

    /// <summary>Whether the run's model is loaded, and its name. Only succeeded runs are loaded, and a succeeded run never
    /// changes (deleting it calls <see cref="Remove"/>), so a loaded model needs no database check before it predicts.</summary>
    public bool IsLoaded(Guid runId, out string? name)
    {
        lock (_gate)
        {
            var loaded = _index.TryGetValue(runId, out var node)
                && node.Value.Model.IsValueCreated && node.Value.Model.Value.IsCompletedSuccessfully;
            name = loaded ? node!.Value.Model.Value.Result.Name : null;
            return loaded;
        }
    }

    /// <summary>Drops a run's model (its run was deleted) from this node's cache and every other node's.</summary>
    public void Remove(Guid runId)
    {
        RemoveHere(runId);
        _cluster.Publish(Topic, runId);
    }

    /// <summary>Raised when a run's model is dropped because the run was deleted (here or on another node), so that what
    /// points at the run (the name resolutions of <see cref="Serving.ModelNames"/>) goes with it.</summary>
    public event Action<Guid>? Removed;

    /// <summary>Raised when everything cached is dropped (signals from other nodes were lost, or the cache ends): what
    /// was derived from the runs cannot be trusted either.</summary>
    public event Action? Cleared;

    private void RemoveHere(Guid runId)
    {
        Removed?.Invoke(runId);
        lock (_gate)
        {
            if (!_index.Remove(runId, out var node)) return;
            _order.Remove(node);
            if (node.Value.Model.IsValueCreated && node.Value.Model.Value.IsCompletedSuccessfully) node.Value.Model.Value.Result.Evict();
        }
    }

    private void Forget(Guid runId, Lazy<Task<LoadedModel>> entry)
    {
        lock (_gate)
        {
            if (_index.TryGetValue(runId, out var node) && ReferenceEquals(node.Value.Model, entry))
            {
                _index.Remove(runId);
                _order.Remove(node);
            }
        }
    }

    private async Task<LoadedModel> LoadAsync(Guid runId)
    {
        await using var db = await _contexts.CreateDbContextAsync();
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == runId)
            .Select(r => new { r.Name, r.SpecJson, r.PreprocessingJson, r.Status }).SingleOrDefaultAsync()
            ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        using var spec = JsonDocument.Parse(run.SpecJson);
        var plan = TrainingPlan.FromSpec(spec.RootElement, _training.Value.Limits);
        var codec = PredictionCodec.FromJson(run.PreprocessingJson
            ?? throw new InvalidOperationException($"Run {runId} has no stored preprocessing."));
        // Read from the database into the model's tensors as it arrives: no whole copy of the archive is held.
        using var weights = WeightsStore.OpenRead(db, runId, WeightsKind.Final)
            ?? throw new InvalidOperationException($"Run {runId} has no final weights.");
        var session = ModelSession.Restore(plan, weights);
        return new LoadedModel(runId, run.Name, plan, session, codec, weights.Length);
    }

    public void Dispose() => Clear();

    private void Clear()
    {
        Cleared?.Invoke();
        lock (_gate)
        {
            foreach (var (_, model) in _order)
            {
                if (model.IsValueCreated && model.Value.IsCompletedSuccessfully) model.Value.Result.Evict();
            }
            _order.Clear();
            _index.Clear();
        }
    }

    /// <summary>A model loading or loaded, with the requests waiting for it (guarded by the cache's lock).</summary>
    private sealed class Entry(Func<Task<LoadedModel>> load) : Lazy<Task<LoadedModel>>(load)
    {
        public int Waiters;
        public bool Dropped;
    }
}
