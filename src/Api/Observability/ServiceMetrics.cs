using System.Diagnostics.Metrics;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Observability;

/// <summary>
/// The service's own instruments (System.Diagnostics.Metrics, exported at <c>/metrics</c> by OpenTelemetry). Every
/// series carries <c>node</c> and <c>role</c>, so one Prometheus query can compare workers. Rates (epochs and samples
/// per second per worker) are counters: Prometheus derives them with <c>rate()</c> over any window.
/// </summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "TrainingService";

    /// <summary>Recovery reasons: the executor's lease lapsed (it died anywhere), or this machine's previous process
    /// left the run (recognised at start-up without waiting for the lease).</summary>
    public const string LeaseLapsed = "lease_lapsed";
    public const string Restart = "restart";

    private readonly KeyValuePair<string, object?> _nodeTag;
    private readonly KeyValuePair<string, object?> _roleTag;
    private readonly Histogram<double> _epochDuration;
    private readonly Histogram<double> _predictionDuration;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    // Totals read by observable counters, so their series exist (at 0) from the first scrape of a node that trains.
    private long _epochs;
    private long _samples;
    private long _leaseRenewals;
    private long _lapsedRecoveries;
    private long _restartRecoveries;

    public ServiceMetrics(IMeterFactory meters, ServiceNode node, RunCounts runs)
    {
        _nodeTag = new("node", node.Name);
        _roleTag = new("role", node.Role);
        // Meters from the host's factory belong to its container: two hosts in one process (tests) keep their own.
        var meter = meters.Create(MeterName);
        _epochDuration = meter.CreateHistogram("trainingservice.epoch.duration", "s", "Wall time of one training epoch, validation included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        _predictionDuration = meter.CreateHistogram("trainingservice.prediction.duration", "s", "Time to answer one prediction request, model restore included on a cache miss.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _cacheHits = meter.CreateCounter<long>("trainingservice.model_cache.hits", "{request}", "Predictions served by a model already in memory.");
        _cacheMisses = meter.CreateCounter<long>("trainingservice.model_cache.misses", "{request}", "Predictions that restored the model from the database first.");
        if (node.RunsJobs)
        {
            meter.CreateObservableCounter("trainingservice.epochs", () => Total(ref _epochs), "{epoch}", "Epochs trained and recorded by this node.");
            meter.CreateObservableCounter("trainingservice.samples", () => Total(ref _samples), "{sample}",
                "Training examples processed by this node (examples per epoch, summed).");
            meter.CreateObservableCounter("trainingservice.lease.renewals", () => Total(ref _leaseRenewals), "{renewal}",
                "Run leases extended by this node's heartbeats.");
            meter.CreateObservableCounter("trainingservice.lease.recoveries", () => (Measurement<long>[])
            [
                new(Interlocked.Read(ref _lapsedRecoveries), _nodeTag, _roleTag, new("reason", LeaseLapsed)),
                new(Interlocked.Read(ref _restartRecoveries), _nodeTag, _roleTag, new("reason", Restart)),
            ], "{run}", "Runs this node queued again because their executor was gone.");
        }
        meter.CreateObservableGauge("trainingservice.runs.queued", () => Counted(runs, RunStatus.Queued), "{run}",
            "Queue depth: runs waiting for a worker (the cluster's, read from the database).");
        meter.CreateObservableGauge("trainingservice.runs", () => ByStatus(runs), "{run}",
            "Runs per status (the cluster's, read from the database).");
    }

    public void EpochTrained(EpochReport report)
    {
        Interlocked.Increment(ref _epochs);
        Interlocked.Add(ref _samples, report.Samples);
        _epochDuration.Record(report.DurationSeconds, _nodeTag, _roleTag);
    }

    /// <summary><paramref name="model"/>: the run's name, or its id for an unnamed run.</summary>
    public void PredictionServed(string model, TimeSpan elapsed) =>
        _predictionDuration.Record(elapsed.TotalSeconds, _nodeTag, _roleTag, new("model", model));

    public void ModelLookedUp(string model, bool hit) =>
        (hit ? _cacheHits : _cacheMisses).Add(1, _nodeTag, _roleTag, new("model", model));

    public void LeaseRenewed() => Interlocked.Increment(ref _leaseRenewals);

    /// <summary><paramref name="reason"/>: <see cref="LeaseLapsed"/> or <see cref="Restart"/>.</summary>
    public void RunsRecovered(int count, string reason)
    {
        if (reason == Restart) Interlocked.Add(ref _restartRecoveries, count);
        else Interlocked.Add(ref _lapsedRecoveries, count);
    }

    /// <summary>Counts an epoch once the inner observer (the recorder) has stored it.</summary>
    public ITrainingObserver Observe(ITrainingObserver inner) => new EpochMeter(inner, this);

    private Measurement<long> Total(ref long total) => new(Interlocked.Read(ref total), _nodeTag, _roleTag);

    private IEnumerable<Measurement<long>> Counted(RunCounts runs, RunStatus status) =>
        runs.Current is { } counts ? [new(counts[status], _nodeTag, _roleTag)] : [];

    private IEnumerable<Measurement<long>> ByStatus(RunCounts runs) =>
        runs.Current is { } counts ? counts.Select(c => new Measurement<long>(c.Value, _nodeTag, _roleTag, new("status", c.Key.ToWire()))) : [];

    private sealed class EpochMeter(ITrainingObserver inner, ServiceMetrics metrics) : ITrainingObserver
    {
        public void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint)
        {
            inner.OnEpochEnd(report, checkpoint);
            metrics.EpochTrained(report);
        }
    }
}
