using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Limits;
using TrainingService.Api.Runs;
using TrainingService.Api.Security;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.Sweeps;

public static class SweepsApi
{
    public static IEndpointRouteBuilder MapSweepsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/sweeps").WithTags("Sweeps").RequireAuthorization(Scopes.RunsRead);
        api.MapPost("/", SubmitSweep).WithName("SubmitSweep")
            .WithSummary("Start a hyperparameter search: a base run spec, a space keyed by JSON path, a method and an objective")
            .WithDescription("Every value the space can produce is validated before any trial runs. Methods: grid, random, asha " +
                             "(random draws with asynchronous successive halving). promote_to names the model the best trial becomes.")
            .Accepts<JsonElement>("application/json")
            .WithRequestExample(SweepExamples.SubmitSweep)
            .RequireAuthorization(Scopes.RunsWrite)
            .RequireRateLimiting(RequestLimits.Submissions);
        api.MapGet("/", ListSweeps).WithName("ListSweeps").WithSummary("Sweeps, newest first");
        api.MapGet("/{id:guid}", GetSweep).WithName("GetSweep").WithSummary("A sweep with its trials sorted by the objective and its best spec");
        api.MapPost("/{id:guid}/cancel", CancelSweep).WithName("CancelSweep").WithSummary("Stop a sweep and every trial it started")
            .RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/{id:guid}/events", StreamEvents).WithName("StreamSweepEvents")
            .WithSummary("Server-Sent Events: sweep status changes and one event per trial change, live")
            .DisableRequestTimeout();
        return app;
    }

    public static async Task<Results<Accepted<SweepResponse>, ValidationProblem, ProblemHttpResult>> SubmitSweep(
        HttpRequest request, TrainingDbContext db, SweepSubmission submission, RunEvents events, Quotas quotas, CancellationToken cancellationToken)
    {
        var body = await SubmittedWork.ReadBodyAsync(request, cancellationToken);
        if (body is null) return SubmittedWork.BodyTooLarge();
        var (sweep, trials, errors) = submission.Validate(body);
        if (sweep is null) return Problems.Invalid(errors);
        var owner = request.HttpContext.User.Owner() ?? "";
        await using (var tx = await quotas.BeginAsync(owner, cancellationToken))
        {
            if (await quotas.CheckSweepAsync(owner, sweep.MaxConcurrentTrials, cancellationToken) is { } refused) return refused;
            db.Sweeps.Add(sweep);
            db.SweepTrials.AddRange(trials);
            Audit.Record(db, request.HttpContext.User, "sweep.submit", sweep.Id.ToString(), sweep.Name);
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }
        events.Notify(sweep.Id);
        return TypedResults.Accepted($"/api/sweeps/{sweep.Id}", await SweepReport.ResponseAsync(db, sweep, cancellationToken));
    }

    public static async Task<Results<Ok<SweepPage>, ValidationProblem>> ListSweeps(
        TrainingDbContext db, [FromQuery] int? page, [FromQuery(Name = "page_size")] int? pageSize, CancellationToken cancellationToken)
    {
        if (page is < 1) return Problems.Invalid("page", "Pages start at 1.");
        if (pageSize is < 1 or > 200) return Problems.Invalid("page_size", "Between 1 and 200.");
        var p = page ?? 1;
        var size = pageSize ?? 20;
        var total = await db.Sweeps.CountAsync(cancellationToken);
        var sweeps = await db.Sweeps.AsNoTracking().OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id)
            .Skip((p - 1) * size).Take(size).ToListAsync(cancellationToken);
        var items = new List<SweepListItem>();
        foreach (var s in sweeps)
        {
            var rows = await SweepReport.TrialsAsync(db, s, cancellationToken);
            var d = SweepDefinition.FromJson(s.SpecJson);
            var best = SweepReport.Best(rows, d.Objective);
            items.Add(new SweepListItem(s.Id, s.Name, s.Status.ToWire(), s.Method, s.CreatedAt, s.FinishedAt, rows.Count,
                rows.Count(r => r.Status is "succeeded" or "failed" or "cancelled" or SweepReport.Stopped), s.ObjectiveMetric, best?.Objective, s.PromoteTo));
        }
        return TypedResults.Ok(new SweepPage(items, p, size, total));
    }

    public static async Task<Results<Ok<SweepResponse>, ProblemHttpResult>> GetSweep(Guid id, TrainingDbContext db, CancellationToken cancellationToken) =>
        await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) is { } sweep
            ? TypedResults.Ok(await SweepReport.ResponseAsync(db, sweep, cancellationToken))
            : NotFound(id);

    /// <summary>Ends the sweep now: trials not started never start, queued ones are cancelled, running ones are asked
    /// to stop (within a batch or two, whichever process trains them).</summary>
    public static async Task<Results<Accepted<SweepResponse>, ProblemHttpResult>> CancelSweep(
        Guid id, HttpContext context, TrainingDbContext db, RunCancellations cancellations, RunEvents events, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var changed = await db.Sweeps.Where(s => s.Id == id && (s.Status == RunStatus.Queued || s.Status == RunStatus.Running))
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, RunStatus.Cancelled)
                .SetProperty(x => x.CancelRequested, true)
                .SetProperty(x => x.FinishedAt, now)
                .SetProperty(x => x.Error, "Cancelled on request."), cancellationToken);
        var sweep = await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (sweep is null) return NotFound(id);
        if (changed == 0)
            return Problems.Conflict("Sweep has ended", $"Sweep {id} is {sweep.Status.ToWire()}; only queued or running sweeps can be cancelled.");

        await db.Runs.Where(r => r.SweepId == id && r.Role == RunRoles.Trial && r.Status == RunStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "Cancelled with its sweep."), cancellationToken);
        var running = await db.Runs.Where(r => r.SweepId == id && r.Role == RunRoles.Trial && r.Status == RunStatus.Running).Select(r => r.Id).ToListAsync(cancellationToken);
        await db.Runs.Where(r => running.Contains(r.Id)).ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true), cancellationToken);
        foreach (var runId in running)
        {
            cancellations.TryCancel(runId);
            events.Notify(runId);
        }
        events.Notify(id);
        await Audit.RecordNowAsync(db, context.User, "sweep.cancel", id.ToString(), cancellationToken);
        return TypedResults.Accepted($"/api/sweeps/{id}", await SweepReport.ResponseAsync(db, sweep, cancellationToken));
    }

    public static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> StreamEvents(
        Guid id, TrainingDbContext db, IDbContextFactory<TrainingDbContext> contexts, RunEvents events, CancellationToken cancellationToken)
    {
        // The request's context sees only the caller's sweeps; the stream's own contexts then follow one it may see.
        if (!await db.Sweeps.AnyAsync(s => s.Id == id, cancellationToken)) return NotFound(id);
        return TypedResults.ServerSentEvents(EventStream(id, contexts, events, cancellationToken));
    }

    /// <summary>A <c>status</c> event when the sweep's status changes, a <c>trial</c> event when a trial's status,
    /// epochs or objective change; ends with the final status once the sweep and all its trials have ended.</summary>
    private static IAsyncEnumerable<SseItem<string>> EventStream(
        Guid id, IDbContextFactory<TrainingDbContext> contexts, RunEvents events, CancellationToken ct)
    {
        string? lastStatus = null;
        var seen = new Dictionary<int, string>();
        return EventStreams.FollowAsync(id, contexts, events, TimeSpan.FromMilliseconds(500), async (db, token) =>
        {
            var row = await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, token);
            if (row is null) return null;
            var sweep = await SweepReport.ResponseAsync(db, row, token);
            var items = new List<SseItem<string>>();
            var ended = sweep.Status is "succeeded" or "failed" or "cancelled";
            if (sweep.Status != lastStatus && !ended)
            {
                items.Add(Status(sweep));
                lastStatus = sweep.Status;
            }
            foreach (var t in sweep.Trials.OrderBy(t => t.Number))
            {
                var key = $"{t.Status}/{t.EpochsCompleted}/{t.Objective}";
                if (seen.TryGetValue(t.Number, out var k) && k == key) continue;
                seen[t.Number] = key;
                items.Add(new SseItem<string>(JsonSerializer.Serialize(t, Json.Options), "trial"));
            }
            if (!ended || sweep.Trials.Any(t => t.Status is "queued" or "running")) return new EventRound(items, Ended: false);
            items.Add(Status(sweep));
            return new EventRound(items, Ended: true);
        }, ct);
    }

    private static SseItem<string> Status(SweepResponse s) =>
        new(JsonSerializer.Serialize(new { id = s.Id, status = s.Status, counts = s.Counts, best = s.Best, promoted = s.Promoted, error = s.Error }, Json.Options), "status");

    private static ProblemHttpResult NotFound(Guid id) => Problems.NotFound("Sweep not found", $"No sweep has id {id}.");
}
