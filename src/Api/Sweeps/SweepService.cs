using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using TrainingService.Api.Jobs;
using TrainingService.Api.Limits;
using TrainingService.Api.Runs;
using TrainingService.Api.Security;
using TrainingService.Api.Tuning;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Sweeps;

/// <summary>
/// Drives sweeps from the tables, so a restart continues where it stopped: starts the next trials (in trial order)
/// while fewer than <c>max_concurrent_trials</c> are queued or running, and when every trial has ended, records the
/// best and promotes it. An owner's queued and running trials over all its sweeps stay within its
/// <c>Quotas:MaxConcurrentTrials</c>; trials past it wait. A trial is an ordinary run (role <c>trial</c>): queued, trained, recovered and bounded by
/// <c>Training:MaxConcurrentRuns</c> like any other; finished trials are kept as they are.
/// </summary>
public sealed class SweepService(
    IServiceScopeFactory scopes,
    RunQueue queue,
    RunEvents events,
    IOptions<TuningOptions> options,
    TimeProvider clock,
    IDbContextFactory<TrainingDbContext> contexts,
    ILogger<SweepService> logger) : CoordinatorService(contexts, options, logger, "Sweep")
{
    public override async Task AdvanceAllAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TrainingDbContext>();
        var submission = scope.ServiceProvider.GetRequiredService<RunSubmission>();
        var room = await scope.ServiceProvider.GetRequiredService<Quotas>().TrialRoomAsync(ct);
        var active = await db.Sweeps.AsNoTracking()
            .Where(s => (s.Status == RunStatus.Queued || s.Status == RunStatus.Running) && !s.CancelRequested)
            .OrderBy(s => s.CreatedAt).Select(s => s.Id).ToListAsync(ct);
        foreach (var id in active) await AdvanceAsync(db, submission, room, id, ct);
    }

    private async Task AdvanceAsync(TrainingDbContext db, RunSubmission submission, TrialRoom room, Guid id, CancellationToken ct)
    {
        var sweep = await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, ct);
        if (sweep is null) return;
        var definition = SweepDefinition.FromJson(sweep.SpecJson);
        var space = definition.ParseSpace();
        var trials = await db.SweepTrials.AsNoTracking().Where(t => t.SweepId == id).OrderBy(t => t.Number).ToListAsync(ct);
        var launched = trials.Where(t => t.RunId != null).Select(t => t.RunId!.Value).ToList();
        var statuses = await db.Runs.AsNoTracking().Where(r => launched.Contains(r.Id)).Select(r => new { r.Id, r.Status }).ToDictionaryAsync(r => r.Id, r => r.Status, ct);
        var active = statuses.Values.Count(s => !s.IsTerminal());

        var changed = false;
        foreach (var trial in trials.Where(t => t.RunId == null && t.LaunchedAt == null))
        {
            // The sweep's own max_concurrent_trials, then the owner's quota over all its sweeps (older sweeps first, as
            // the pass goes): a trial without room waits for a later pass.
            if (active >= sweep.MaxConcurrentTrials || !room.TryTake(sweep.Owner)) break;
            await LaunchAsync(db, submission, sweep, definition, space, trial, ct);
            active++;
            changed = true;
        }
        if (changed && sweep.Status == RunStatus.Queued)
        {
            var now = clock.GetUtcNow();
            await db.Sweeps.Where(s => s.Id == id && s.Status == RunStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, RunStatus.Running).SetProperty(x => x.StartedAt, now), ct);
        }
        if (changed) events.Notify(id);

        var allEnded = trials.All(t => t.LaunchedAt != null || t.RunId != null) && active == 0 && !changed
                       && trials.Where(t => t.RunId != null).All(t => statuses.TryGetValue(t.RunId!.Value, out var s) && s.IsTerminal());
        if (allEnded) await FinishAsync(db, sweep, definition, ct);
    }

    /// <summary>Creates the trial's run (validated as a submission would be) and queues it, in one transaction with
    /// the trial's link to it, so a restart neither loses nor repeats a launch.</summary>
    private async Task LaunchAsync(TrainingDbContext db, RunSubmission submission, Sweep sweep, SweepDefinition d, SearchSpace space, SweepTrial trial, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var spec = d.TrialSpec(space, JsonNode.Parse(trial.ParamsJson)!.AsObject());
        var (run, errors) = submission.Validate(SweepSubmission.Bytes(spec));
        run ??= new Run
        {
            Id = Guid.CreateVersion7(),
            Status = RunStatus.Failed,
            CreatedAt = now,
            FinishedAt = now,
            SpecJson = spec.ToJsonString(),
            Error = "The trial's spec no longer validates: " + string.Join("; ", errors.ToDictionary().Select(kv => $"{kv.Key}: {string.Join(" ", kv.Value)}")),
        };
        run.Role = RunRoles.Trial;
        run.SweepId = sweep.Id;
        run.Owner = sweep.Owner;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);
        var linked = await db.SweepTrials.Where(t => t.SweepId == sweep.Id && t.Number == trial.Number && t.RunId == null && t.LaunchedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunId, run.Id).SetProperty(t => t.LaunchedAt, now), ct);
        if (!await CommitIfOneAsync(db, tx, linked, ct)) return;
        if (run.Status == RunStatus.Queued) queue.Enqueue(run.Id);
        events.Notify(run.Id);
    }

    private async Task FinishAsync(TrainingDbContext db, Sweep sweep, SweepDefinition d, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var rows = await SweepReport.TrialsAsync(db, sweep, ct);
        var best = SweepReport.Best(rows, d.Objective);
        var status = best is null ? RunStatus.Failed : RunStatus.Succeeded;
        var error = best is null ? $"No trial finished with a value for '{d.Objective.Metric}'." : null;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        Guid? promoted = null, promotedFrom = null;
        if (best is not null && d.PromoteTo is { } name)
        {
            var source = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == best.RunId, ct);
            // A copy of the best trial under the promoted name: the newest succeeded run of that name, which is what
            // /api/models/{name} serves. The trial itself stays as it was in the table.
            var copy = new Run
            {
                Id = Guid.CreateVersion7(),
                Name = name,
                Status = RunStatus.Succeeded,
                CreatedAt = now,
                StartedAt = source.StartedAt,
                FinishedAt = now,
                EpochsCompleted = source.EpochsCompleted,
                EpochsPlanned = source.EpochsPlanned,
                SpecJson = source.SpecJson,
                SummaryJson = source.SummaryJson,
                MetricsJson = source.MetricsJson,
                PreprocessingJson = source.PreprocessingJson,
                BestEpoch = source.BestEpoch,
                StoppedEarly = source.StoppedEarly,
                Attempts = source.Attempts,
                Role = RunRoles.Promoted,
                Owner = sweep.Owner,
                ParentRunId = source.Id,
                SweepId = sweep.Id,
            };
            db.Runs.Add(copy);
            // The promotion changes what /api/models/{name} serves, so it is audited like a submission.
            Audit.Record(db, "sweep:" + sweep.Id, sweep.Owner, "model.promote", name, $"run {copy.Id} from trial run {source.Id}");
            (promoted, promotedFrom) = (copy.Id, source.Id);
        }
        await db.SaveChangesAsync(ct);
        if (promoted is { } copyId && promotedFrom is { } sourceId)
            WeightsStore.Copy(db, sourceId, WeightsKind.Final, copyId, WeightsKind.Final, now);
        var done = await db.Sweeps.Where(s => s.Id == sweep.Id && (s.Status == RunStatus.Running || s.Status == RunStatus.Queued) && !s.CancelRequested)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, status)
                .SetProperty(x => x.FinishedAt, now)
                .SetProperty(x => x.BestTrial, best == null ? null : best.Number)
                .SetProperty(x => x.PromotedRunId, promoted)
                .SetProperty(x => x.Error, error), ct);
        if (!await CommitIfOneAsync(db, tx, done, ct)) return;
        events.Notify(sweep.Id);
        Logger.LogInformation("Sweep {SweepId} {Status}; best trial {Trial}", sweep.Id, status.ToWire(), best?.Number);
    }

    /// <summary>Commits when the guarded update changed its one row (no other coordinator took the step first), rolls
    /// back otherwise; either way the context forgets what it tracked.</summary>
    private static async Task<bool> CommitIfOneAsync(TrainingDbContext db, IDbContextTransaction tx, int changed, CancellationToken ct)
    {
        if (changed == 1) await tx.CommitAsync(ct);
        else await tx.RollbackAsync(ct);
        db.ChangeTracker.Clear();
        return changed == 1;
    }
}
