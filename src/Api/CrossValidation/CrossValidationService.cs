using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Tuning;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.CrossValidation;

/// <summary>
/// Drives cross-validation runs from the runs table, so it survives restarts like a run does. A cross-validation
/// run is accepted as <c>running</c> and trains nothing itself: this loop gives it one child run per fold (and a
/// refit) as ordinary queued runs — bounded by <c>Training:MaxConcurrentRuns</c> like any run — follows them, and
/// when they have all ended records the aggregate on the parent and, with refit, takes over the refit's model
/// (preprocessing and final weights) so the parent is served like any run.
/// </summary>
public sealed class CrossValidationService(
    IDbContextFactory<TrainingDbContext> contexts,
    RunQueue queue,
    RunEvents events,
    RunCancellations cancellations,
    IOptions<TuningOptions> options,
    TimeProvider clock,
    ILogger<CrossValidationService> logger) : CoordinatorService(contexts, options, logger, "Cross-validation")
{
    public override async Task AdvanceAllAsync(CancellationToken ct)
    {
        await using var db = await Contexts.CreateDbContextAsync(ct);
        var active = await db.Runs.AsNoTracking()
            .Where(r => r.Role == RunRoles.CrossValidation && r.Status == RunStatus.Running)
            .Select(r => r.Id).ToListAsync(ct);
        foreach (var id in active) await AdvanceAsync(db, id, ct);
    }

    private async Task AdvanceAsync(TrainingDbContext db, Guid id, CancellationToken ct)
    {
        var parent = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct);
        if (parent is null) return;
        using var spec = JsonDocument.Parse(parent.SpecJson);
        var cv = CrossValidationSpec.FromSpec(spec.RootElement)!;
        var children = await db.Runs.AsNoTracking().Where(r => r.ParentRunId == id).ToListAsync(ct);

        if (children.Count == 0 && !parent.CancelRequested)
        {
            await ExpandAsync(db, parent, cv, ct);
            return;
        }

        if (parent.CancelRequested)
        {
            await CancelChildrenAsync(db, children, ct);
            children = await db.Runs.AsNoTracking().Where(r => r.ParentRunId == id).ToListAsync(ct);
        }

        var epochs = children.Sum(c => c.EpochsCompleted);
        if (epochs != parent.EpochsCompleted)
        {
            await db.Runs.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.EpochsCompleted, epochs), ct);
            events.Notify(id);
        }
        if (!children.All(c => c.Status.IsTerminal())) return;
        await FinishAsync(db, parent, cv, children, ct);
    }

    /// <summary>One queued child per fold, then the refit; the unique (parent, role, fold) index makes a second
    /// expansion of the same run fail instead of adding folds twice.</summary>
    private async Task ExpandAsync(TrainingDbContext db, Run parent, CrossValidationSpec cv, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var perRun = parent.EpochsPlanned / (cv.Folds + (cv.Refit ? 1 : 0));
        var children = Enumerable.Range(0, cv.Folds)
            .Select(i => Child(parent, RunRoles.Fold, i, perRun, now.AddTicks(i)))
            .ToList();
        if (cv.Refit) children.Add(Child(parent, RunRoles.Refit, null, perRun, now.AddTicks(cv.Folds)));
        db.Runs.AddRange(children);
        try
        {
            await db.SaveChangesAsync(ct);
            // A run that starts from uploaded (Keras) weights: every fold and the refit start from them too.
            foreach (var child in children) WeightsStore.Copy(db, parent.Id, WeightsKind.Initial, child.Id, WeightsKind.Initial, now);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return;
        }
        db.ChangeTracker.Clear();
        foreach (var c in children) queue.Enqueue(c.Id);
        events.Notify(parent.Id);
        Logger.LogInformation("Cross-validation run {RunId}: {Folds} folds{Refit} queued", parent.Id, cv.Folds, cv.Refit ? " and a refit" : "");
    }

    private static Run Child(Run parent, string role, int? fold, int epochs, DateTimeOffset createdAt) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = null,
        Status = RunStatus.Queued,
        CreatedAt = createdAt,
        EpochsPlanned = epochs,
        SpecJson = parent.SpecJson,
        SummaryJson = parent.SummaryJson,
        Role = role,
        ParentRunId = parent.Id,
        FoldIndex = fold,
        Owner = parent.Owner,
    };

    private async Task CancelChildrenAsync(TrainingDbContext db, List<Run> children, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        foreach (var c in children.Where(c => !c.Status.IsTerminal() && !c.CancelRequested))
        {
            await db.Runs.Where(r => r.Id == c.Id && r.Status == RunStatus.Queued).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "Cancelled with its cross-validation run."), ct);
            await db.Runs.Where(r => r.Id == c.Id && r.Status == RunStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true), ct);
            cancellations.TryCancel(c.Id);
            events.Notify(c.Id);
        }
    }

    private async Task FinishAsync(TrainingDbContext db, Run parent, CrossValidationSpec cv, List<Run> children, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var report = CrossValidationAggregate.Build(parent, cv, children);
        var refit = children.FirstOrDefault(c => c.Role == RunRoles.Refit);
        var bad = children.Where(c => c.Status != RunStatus.Succeeded).OrderBy(c => c.FoldIndex ?? int.MaxValue).FirstOrDefault();

        var status = RunStatus.Succeeded;
        string? error = null;
        if (parent.CancelRequested)
            (status, error) = (RunStatus.Cancelled, "Cancelled on request.");
        else if (bad is not null)
        {
            var what = bad.Role == RunRoles.Refit ? "the refit" : $"fold {bad.FoldIndex}";
            (status, error) = (bad.Status == RunStatus.Failed ? RunStatus.Failed : RunStatus.Cancelled, $"{what} (run {bad.Id}) {bad.Status.ToWire()}: {bad.Error}");
        }

        var metrics = new JsonObject();
        if (refit is { Status: RunStatus.Succeeded, MetricsJson: { } test })
            foreach (var (k, v) in JsonNode.Parse(test)!.AsObject()) metrics[k] = v?.DeepClone();
        if (report.Mean is not null)
        {
            metrics[CrossValidationSpec.Key] = new JsonObject
            {
                ["folds"] = cv.Folds,
                ["mean"] = JsonSerializer.SerializeToNode(report.Mean),
                ["std"] = JsonSerializer.SerializeToNode(report.Std),
            };
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var changed = await db.Runs.Where(r => r.Id == parent.Id && r.Status == RunStatus.Running).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Status, status)
            .SetProperty(r => r.FinishedAt, now)
            .SetProperty(r => r.Error, error)
            .SetProperty(r => r.EpochsCompleted, children.Sum(c => c.EpochsCompleted))
            .SetProperty(r => r.MetricsJson, metrics.Count > 0 ? metrics.ToJsonString() : null)
            .SetProperty(r => r.BestEpoch, refit == null ? null : refit.BestEpoch)
            .SetProperty(r => r.StoppedEarly, refit != null && refit.StoppedEarly)
            .SetProperty(r => r.PreprocessingJson, refit == null ? null : refit.PreprocessingJson), ct);
        if (changed == 1 && status == RunStatus.Succeeded && refit is not null)
        {
            // The parent serves the refit's model: same definition, same preprocessing, a copy of its final weights.
            WeightsStore.Copy(db, refit.Id, WeightsKind.Final, parent.Id, WeightsKind.Final, now);
        }
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
        events.Notify(parent.Id);
        Logger.LogInformation("Cross-validation run {RunId} {Status}", parent.Id, status.ToWire());
    }
}
