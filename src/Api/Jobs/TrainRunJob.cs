using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Observability;
using TrainingService.Api.Runs;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Jobs;

/// <summary>
/// Trains one run. Hangfire hands it only the run id; the runs table decides whether there is anything to do.
/// Not retried by Hangfire: a bad spec or bad data fails the run with a readable error, and interruptions
/// (crash, shutdown) are resumed by <see cref="RunRecoveryService"/> from the last checkpoint, not by a retry.
/// </summary>
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
public sealed class TrainRunJob(
    TrainingDbContext db,
    IDbContextFactory<TrainingDbContext> contexts,
    IDatasets datasets,
    IOptions<TrainingOptions> options,
    ExecutorIdentity identity,
    RunEvents events,
    RunCancellations cancellations,
    TimeProvider clock,
    ITrainingHooks hooks,
    ServiceMetrics serviceMetrics,
    ILogger<TrainRunJob> logger)
{
    /// <summary>Enough misclassified examples for a page of them; each holds its raw input.</summary>
    public const int MaxMisclassifiedStored = 32;

    private volatile bool _lostLease;

    [JobDisplayName("Train run {0}")]
    [Queue(RunQueue.QueueName)]
    public async Task ExecuteAsync(Guid runId, CancellationToken cancellationToken)
    {
        // Everything logged while this run trains (here, in EF Core, in the heartbeat) names it.
        using var scope = logger.BeginRunScope(runId);
        var owner = identity.Owner;
        var lease = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        if (!await db.TryClaimAsync(runId, owner, clock.GetUtcNow(), lease, cancellationToken))
        {
            logger.LogInformation("Run {RunId} is not queued (taken, finished, cancelled or deleted); nothing to do", runId);
            return;
        }
        events.Notify(runId);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var heartbeatStop = new CancellationTokenSource();
        cancellations.Register(runId, stop);
        var heartbeat = Task.Run(() => HeartbeatAsync(runId, owner, lease, stop, heartbeatStop.Token), CancellationToken.None);
        // What the steps keep for reuse goes back to the kernel when the last run training in this process ends.
        var training = NativeHeap.Training();

        try
        {
            // Training is synchronous CPU work; Hangfire gives each job a dedicated worker thread.
            Train(runId, owner, lease, stop.Token);
        }
        catch (Exception e) when (e is LeaseLostException || (e is OperationCanceledException && _lostLease))
        {
            logger.LogWarning("Run {RunId} was taken from this executor; stopping without further writes", runId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The server is shutting down: hand the run back so the next start resumes it from its checkpoint.
            await db.ReleaseAsync(runId, owner, clock.GetUtcNow(), CancellationToken.None);
            logger.LogInformation("Run {RunId} released for resumption (shutdown)", runId);
        }
        catch (OperationCanceledException)
        {
            // A sweep trial stopped at a rung ends stopped: its epochs are a result, not an abandoned run.
            if (hooks.StoppedBy(runId) is { } reason) await FinishAsync(runId, owner, RunStatus.Stopped, reason);
            else await FinishAsync(runId, owner, RunStatus.Cancelled, "Cancelled on request.");
        }
        catch (SpecException e)
        {
            await FinishAsync(runId, owner, RunStatus.Failed, e.Message);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {RunId} failed", runId);
            await FinishAsync(runId, owner, RunStatus.Failed, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            cancellations.Unregister(runId);
            await heartbeatStop.CancelAsync();
            await heartbeat;
            events.Notify(runId);
            training.Dispose();
        }
    }

    /// <summary>The model a run starts from: uploaded (Keras) weights or another run's (<c>initial_weights</c>) where
    /// it names them, fresh initialisation otherwise.</summary>
    private ModelSession StartingPoint(Guid runId, JsonElement root, TrainingPlan plan)
    {
        if (InitialWeightsSpec.FromSpec(root) is { } source) return ModelSession.StartFrom(plan, source.Load(db, plan));
        using var initial = WeightsStore.OpenRead(db, runId, WeightsKind.Initial);
        return initial is null ? ModelSession.Create(plan) : ModelSession.StartFrom(plan, initial);
    }

    private void Train(Guid runId, string owner, TimeSpan lease, CancellationToken ct)
    {
        var run = db.Runs.AsNoTracking().Single(r => r.Id == runId);
        using var spec = JsonDocument.Parse(run.SpecJson);
        var root = spec.RootElement;
        var plan = TrainingPlan.FromSpec(root, options.Value.Limits);
        var plannedData = hooks.Data(run, root);
        using var data = datasets.Prepare(root.GetProperty("dataset"), ct, plannedData.FitOn);
        ct.ThrowIfCancellationRequested();

        if (db.Runs.Where(r => r.Id == runId && r.LeaseOwner == owner && r.Status == RunStatus.Running)
                .ExecuteUpdate(s => s.SetProperty(r => r.PreprocessingJson, data.PreprocessingJson)) != 1)
            throw new LeaseLostException(runId);

        // Resume point: the checkpoint is written in the same transaction as its epoch's metrics, so its epoch is
        // exactly the number of epochs recorded.
        var checkpoint = db.RunWeights.AsNoTracking()
            .Where(w => w.RunId == runId && w.Kind == WeightsKind.Checkpoint)
            .Select(w => new { w.Epoch })
            .SingleOrDefault();
        var recorded = db.EpochMetrics.AsNoTracking().Where(m => m.RunId == runId).Select(m => m.LogsJson).ToList();
        if ((checkpoint?.Epoch ?? 0) != recorded.Count)
            throw new InvalidOperationException($"Run {runId} has {recorded.Count} epochs recorded but a checkpoint after epoch {checkpoint?.Epoch ?? 0}.");
        var best = recorded
            .Select(j => EpochRecorder.Monitored(JsonSerializer.Deserialize<Dictionary<string, double>>(j)!))
            .Where(v => v is not null)
            .Min();
        if (checkpoint is not null)
            logger.LogInformation("Run {RunId} resumes after epoch {Epoch}", runId, checkpoint.Epoch);

        // A run submitted with Keras weights or another run's (initial_weights) starts from them; a resumed run's
        // checkpoint holds its own weights.
        using var session = checkpoint is not null ? ModelSession.Create(plan) : StartingPoint(runId, root, plan);
        var recorder = new EpochRecorder(db, runId, owner, lease, clock, events, best);
        using var split = plannedData.Take(data);
        // A sweep trial may be stopped at a rung by its observer. The checkpoint is streamed from the database into the
        // model and optimizer, and released before the first step.
        var result = session.Fit(split.Train, split.Validation, hooks.Observe(run, serviceMetrics.Observe(recorder)), ct,
            checkpoint is null ? null : () => WeightsStore.OpenRead(db, runId, WeightsKind.Checkpoint)!, options.Value.ThreadPolicy);

        var metrics = split.Score is { } test ? session.Evaluate(test) : null;
        var evaluation = split.Score is { } scored
            ? ClassificationReport.Compute(session, scored, data.ClassNames, MaxMisclassifiedStored)
            : null;
        var weights = session.SaveWeights();
        var now = clock.GetUtcNow();

        using var tx = db.Database.BeginTransaction();
        var done = db.Runs
            .Where(r => r.Id == runId && r.LeaseOwner == owner && r.Status == RunStatus.Running)
            .ExecuteUpdate(s => s
                .SetProperty(r => r.Status, RunStatus.Succeeded)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.MetricsJson, metrics == null ? null : JsonSerializer.Serialize(metrics, Json.Options))
                .SetProperty(r => r.EvaluationJson, evaluation == null ? null : JsonSerializer.Serialize(evaluation, Json.Options))
                .SetProperty(r => r.BestEpoch, result.BestEpoch)
                .SetProperty(r => r.StoppedEarly, result.StoppedEarly)
                .SetProperty(r => r.ThreadsJson, result.Threads == null ? null : JsonSerializer.Serialize(result.Threads, Json.Options))
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null));
        if (done != 1) throw new LeaseLostException(runId);
        var lastEpoch = result.History.Count > 0 ? result.History[^1].Epoch : recorded.Count;
        WeightsStore.Replace(db, runId, WeightsKind.Final, lastEpoch, weights, now);
        tx.Commit();
        logger.LogInformation("Run {RunId} succeeded after {Epochs} epochs", runId, lastEpoch);
    }

    private async Task FinishAsync(Guid runId, string owner, RunStatus status, string error)
    {
        var now = clock.GetUtcNow();
        await db.Runs
            .Where(r => r.Id == runId && r.LeaseOwner == owner && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, status)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, error)
                .SetProperty(r => r.LeaseOwner, (string?)null)
                .SetProperty(r => r.LeaseExpiresAt, (DateTimeOffset?)null), CancellationToken.None);
    }

    /// <summary>Keeps the lease alive and watches for cancel requests written by any process, until
    /// <paramref name="until"/>; cancels <paramref name="stop"/> when the run stops being ours. A failed poll (the
    /// database busy, say) is logged and the next poll tries again.</summary>
    private async Task HeartbeatAsync(Guid runId, string owner, TimeSpan lease, CancellationTokenSource stop, CancellationToken until)
    {
        var poll = TimeSpan.FromSeconds(Math.Max(0.05, options.Value.CancelPollSeconds));
        var renewEvery = lease / 3;
        var lastRenew = clock.GetUtcNow();
        while (!until.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(poll, until);
                await using var ctx = await contexts.CreateDbContextAsync(until);
                var state = await ctx.Runs.AsNoTracking().Where(r => r.Id == runId)
                    .Select(r => new { r.CancelRequested, r.LeaseOwner, r.Status }).SingleOrDefaultAsync(until);
                if (state is null || state.LeaseOwner != owner || state.Status != RunStatus.Running)
                {
                    _lostLease = true;
                    await stop.CancelAsync();
                    return;
                }
                if (state.CancelRequested) await stop.CancelAsync();
                var now = clock.GetUtcNow();
                if (now - lastRenew >= renewEvery)
                {
                    if (!await ctx.TryRenewAsync(runId, owner, now, lease, until))
                    {
                        _lostLease = true;
                        await stop.CancelAsync();
                        return;
                    }
                    lastRenew = now;
                    serviceMetrics.LeaseRenewed();
                }
            }
            catch (OperationCanceledException) when (until.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Heartbeat of run {RunId} failed; will retry", runId);
            }
        }
    }
}
