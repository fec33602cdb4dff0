using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Api.Jobs;
using TrainingService.Api.Keras;
using TrainingService.Api.Limits;
using TrainingService.Api.Models;
using TrainingService.Api.Observability;
using TrainingService.Api.Security;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Runs;

public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runs").WithTags("Runs").RequireAuthorization(Scopes.RunsRead);

        api.MapPost("/", SubmitRun)
            .WithName("SubmitRun")
            .WithSummary("Submit a training run")
            .WithDescription("Validates everything that can be checked without training and queues the run. " +
                             "An Idempotency-Key header makes a retried submission return the same run. " +
                             "'model' may be a Keras model.to_json() document or TF.js model.json. Multipart: the spec as JSON in field " +
                             "'spec' (without 'model') and the model file(s) in field 'model' (.keras, legacy .h5, TF.js zip, or TF.js model.json with its shards; " +
                             "a weights-only .weights.h5 with the model.to_json() document in field 'architecture'); training starts from its weights " +
                             "(fit.epochs 0 serves them as they are).")
            .Accepts<SubmitRunRequest>("application/json", "multipart/form-data")
            // JSON bodies are capped at SubmittedWork.MaxBodyBytes by the handler; multipart may carry a .keras archive.
            .WithMetadata(new RequestSizeLimitAttribute(KerasUploads.MaxArchiveBytes + 1024 * 1024))
            .WithRequestExample(ApiExamples.SubmitRun)
            .RequireAuthorization(Scopes.RunsWrite)
            .RequireRateLimiting(RequestLimits.Submissions);
        api.MapGet("/", ListRuns).WithName("ListRuns").WithSummary("List runs, newest first");
        api.MapGet("/{id:guid}", GetRun).WithName("GetRun").WithSummary("A run with its status, metrics, summary and spec");
        api.MapGet("/{id:guid}/metrics", GetMetrics).WithName("GetRunMetrics").WithSummary("One row per finished epoch");
        api.MapGet("/{id:guid}/events", StreamEvents).WithName("StreamRunEvents")
            .WithSummary("Server-Sent Events: status changes and one event per epoch, live")
            .DisableRequestTimeout();
        api.MapPost("/{id:guid}/cancel", CancelRun).WithName("CancelRun").WithSummary("Stop a queued or running run")
            .RequireAuthorization(Scopes.RunsWrite);
        api.MapDelete("/{id:guid}", DeleteRun).WithName("DeleteRun").WithSummary("Cancel if needed, then remove the run, its metrics and weights")
            .RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/{id:guid}/weights", GetWeights).WithName("GetRunWeights")
            .WithSummary("Download weights: final (default), best or checkpoint")
            .DisableRequestTimeout();
        api.MapGet("/{id:guid}/export", RunExport.Export).WithName("ExportRun")
            .WithSummary("A succeeded run's model with its weights: format=keras (.keras), tfjs (TF.js layers-model zip) or onnx")
            .DisableRequestTimeout();
        return app;
    }

    public static async Task<Results<Accepted<RunResponse>, ValidationProblem, ProblemHttpResult>> SubmitRun(
        HttpRequest request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        TrainingDbContext db,
        RunSubmission submission,
        RunQueue queue,
        RunEvents events,
        Quotas quotas,
        CancellationToken cancellationToken)
    {
        if (idempotencyKey is { Length: 0 or > 200 })
            return Problems.Invalid("Idempotency-Key", "The Idempotency-Key header must be 1-200 characters.");

        byte[]? body;
        IReadOnlyList<KerasUpload>? archiveFiles = null;
        JsonElement? architecture = null;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            var specText = form["spec"].ToString();
            if (string.IsNullOrWhiteSpace(specText))
                return Problems.Invalid("spec", "Put the run spec (name, dataset, compile, fit) as JSON in multipart field 'spec' and the .keras file in field 'model'.");
            var (files, problem) = await KerasUploads.ReadFilesAsync(form, "model", cancellationToken);
            if (problem is not null) return problem;
            var (arch, archProblem) = KerasUploads.ReadArchitecture(form);
            if (archProblem is not null) return archProblem;
            body = Encoding.UTF8.GetBytes(specText);
            archiveFiles = files;
            architecture = arch;
        }
        else
        {
            body = await SubmittedWork.ReadBodyAsync(request, cancellationToken);
            if (body is null) return SubmittedWork.BodyTooLarge();
        }
        var hash = RunSubmission.Hash(archiveFiles is null
            ? body
            : [.. body, .. archiveFiles.SelectMany(f => f.Content), .. Encoding.UTF8.GetBytes(architecture?.GetRawText() ?? "")]);

        if (idempotencyKey is not null && await FindByKeyAsync(db, idempotencyKey, cancellationToken) is { } existing)
            return Replay(existing, hash);

        KerasArchiveImport? archive = null;
        if (archiveFiles is not null)
        {
            try
            {
                archive = submission.ImportArchive(archiveFiles, architecture);
            }
            catch (SpecException e)
            {
                return Problems.Invalid(e);
            }
        }

        var (run, errors) = submission.Validate(body, archive);
        if (run is null) return Problems.Invalid(errors);

        run.IdempotencyKey = idempotencyKey;
        run.RequestHash = idempotencyKey is null ? null : hash;
        // Checked, written and committed under the owner's lock: two submissions cannot both take the last place.
        var owner = request.HttpContext.User.Owner() ?? "";
        await using (var tx = await quotas.BeginAsync(owner, cancellationToken))
        {
            if (await quotas.CheckRunAsync(owner, archive?.Weights?.LongLength ?? 0, cancellationToken) is { } refused) return refused;
            db.Runs.Add(run);
            Audit.Record(db, request.HttpContext.User, "run.submit", run.Id.ToString(), run.Name);
            if (archive?.Weights is { } initial)
                db.RunWeights.Add(new RunWeights { RunId = run.Id, Kind = WeightsKind.Initial, Epoch = 0, Data = initial, CreatedAt = run.CreatedAt });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                await tx.CommitAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (idempotencyKey is not null && DatabaseSetup.IsUniqueViolation(e))
            {
                // Two submissions with the same key raced; the other one won. (PostgreSQL refuses every statement
                // in a failed transaction, so it ends before the winner is read.)
                await tx.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                if (await FindByKeyAsync(db, idempotencyKey, cancellationToken) is { } winner) return Replay(winner, hash);
                throw;
            }
        }

        queue.Enqueue(run.Id);
        events.Notify(run.Id);
        return TypedResults.Accepted($"/api/runs/{run.Id}", run.AsRunResponse());
    }

    private static Results<Accepted<RunResponse>, ValidationProblem, ProblemHttpResult> Replay(Run existing, string hash) =>
        existing.RequestHash == hash
            ? TypedResults.Accepted($"/api/runs/{existing.Id}", existing.AsRunResponse())
            : Problems.Conflict("Idempotency key reused",
                $"The Idempotency-Key was first used for run {existing.Id} with a different body; use a new key for a new run.");

    private static Task<Run?> FindByKeyAsync(TrainingDbContext db, string key, CancellationToken ct) =>
        db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.IdempotencyKey == key, ct);

    public static async Task<Results<Ok<RunPage>, ValidationProblem>> ListRuns(
        TrainingDbContext db,
        [FromQuery] string? status,
        [FromQuery] string? name,
        [FromQuery(Name = "name_contains")] string? nameContains,
        [FromQuery] int? page,
        [FromQuery(Name = "page_size")] int? pageSize,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        RunStatus parsed = default;
        if (status is not null && !RunStatusExtensions.TryParseWire(status, out parsed))
            errors.Add("status", $"Unknown status '{status}'. Accepted: {string.Join(", ", Enum.GetValues<RunStatus>().Select(s => s.ToWire()))}.");
        if (page is < 1) errors.Add("page", "Pages start at 1.");
        if (pageSize is < 1 or > 200) errors.Add("page_size", "Between 1 and 200.");
        if (!errors.IsEmpty) return Problems.Invalid(errors);

        var p = page ?? 1;
        var size = pageSize ?? 20;
        var query = db.Runs.AsNoTracking();
        if (status is not null) query = query.Where(r => r.Status == parsed);
        if (name is not null) query = query.Where(r => r.Name == name);
        if (!string.IsNullOrEmpty(nameContains)) query = query.Where(r => r.Name != null && r.Name.Contains(nameContains));
        var total = await query.CountAsync(cancellationToken);
        var rows = await query
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Skip((p - 1) * size).Take(size)
            .Select(r => new { r.Id, r.Name, r.Status, r.CreatedAt, r.StartedAt, r.FinishedAt, r.EpochsCompleted, r.EpochsPlanned, r.MetricsJson, r.Error, r.SpecJson, r.SummaryJson, r.Role })
            .ToListAsync(cancellationToken);
        var items = rows.Select(r => new RunListItem
        {
            Id = r.Id, Name = r.Name, Status = r.Status.ToWire(), CreatedAt = r.CreatedAt, StartedAt = r.StartedAt, FinishedAt = r.FinishedAt,
            EpochsCompleted = r.EpochsCompleted, EpochsPlanned = r.EpochsPlanned, Metrics = Json.ParseElement(r.MetricsJson), Error = r.Error,
            Dataset = RunMapping.DatasetName(r.SpecJson), Parameters = RunMapping.TotalParameters(r.SummaryJson), Role = r.Role,
        }).ToList();
        return TypedResults.Ok(new RunPage(items, p, size, total));
    }

    public static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetRun(Guid id, TrainingDbContext db, CancellationToken cancellationToken) =>
        await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken) is { } run
            ? TypedResults.Ok(run.AsRunResponse())
            : Problems.RunNotFound(id);

    public static async Task<Results<Ok<List<EpochMetricResponse>>, ProblemHttpResult>> GetMetrics(Guid id, TrainingDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Runs.AnyAsync(r => r.Id == id, cancellationToken)) return Problems.RunNotFound(id);
        var rows = await db.EpochMetrics.AsNoTracking().Where(m => m.RunId == id).OrderBy(m => m.Epoch).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(m => m.AsResponse()).ToList());
    }

    public static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> StreamEvents(
        Guid id, TrainingDbContext db, IDbContextFactory<TrainingDbContext> contexts, RunEvents events, ILoggerFactory loggers,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId, CancellationToken cancellationToken)
    {
        // The request's context sees only the caller's runs; the stream's own contexts then follow a run it may see.
        if (!await db.Runs.AnyAsync(r => r.Id == id, cancellationToken)) return Problems.RunNotFound(id);
        var after = int.TryParse(lastEventId?.Replace("epoch-", ""), out var n) ? n : 0;
        return TypedResults.ServerSentEvents(RunEventStream(id, after, contexts, events, loggers.CreateLogger(typeof(RunsApi)), cancellationToken));
    }

    /// <summary>Replays finished epochs, then follows the run until it ends (see <see cref="EventStreams"/>).</summary>
    private static IAsyncEnumerable<SseItem<string>> RunEventStream(
        Guid id, int afterEpoch, IDbContextFactory<TrainingDbContext> contexts, RunEvents events, ILogger logger, CancellationToken ct)
    {
        // A scope cannot span a yield (the caller's context comes back with each item), so each line opens its own.
        using (logger.BeginRunScope(id)) logger.LogDebug("Event stream opened after epoch {Epoch}", afterEpoch);
        string? lastStatus = null;
        var lastEpoch = afterEpoch;
        return EventStreams.FollowAsync(id, contexts, events, TimeSpan.FromSeconds(1), async (db, token) =>
        {
            var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, token);
            if (run is null)
            {
                using (logger.BeginRunScope(id)) logger.LogDebug("Event stream ends: the run was deleted");
                return null;
            }
            var epochs = await db.EpochMetrics.AsNoTracking()
                .Where(m => m.RunId == id && m.Epoch > lastEpoch).OrderBy(m => m.Epoch).ToListAsync(token);
            var items = new List<SseItem<string>>();
            // The status event for a run that has ended goes after its last epochs.
            var status = run.Status.ToWire();
            if (status != lastStatus && !run.Status.IsTerminal())
            {
                items.Add(StatusEvent(run));
                lastStatus = status;
            }
            foreach (var m in epochs)
            {
                items.Add(new SseItem<string>(JsonSerializer.Serialize(m.AsResponse(), Json.Options), "epoch") { EventId = $"epoch-{m.Epoch}" });
                lastEpoch = m.Epoch;
            }
            if (!run.Status.IsTerminal()) return new EventRound(items, Ended: false);
            using (logger.BeginRunScope(id)) logger.LogDebug("Event stream ends: the run is {Status} after epoch {Epoch}", status, lastEpoch);
            items.Add(StatusEvent(run));
            return new EventRound(items, Ended: true);
        }, ct);
    }

    private static SseItem<string> StatusEvent(Run run) =>
        new(JsonSerializer.Serialize(new
        {
            id = run.Id,
            status = run.Status.ToWire(),
            epochs_completed = run.EpochsCompleted,
            epochs_planned = run.EpochsPlanned,
            metrics = Json.ParseElement(run.MetricsJson),
            error = run.Error,
        }, Json.Options), "status");

    public static async Task<Results<Accepted<RunResponse>, ProblemHttpResult>> CancelRun(
        Guid id, HttpContext context, TrainingDbContext db, RunCancellations cancellations, RunEvents events, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // A queued run is cancelled here and now; a running one is asked to stop and its executor records it.
        var changed = await db.Runs.Where(r => r.Id == id && r.Status == RunStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "Cancelled on request before it started."), cancellationToken);
        if (changed == 0)
        {
            changed = await db.Runs.Where(r => r.Id == id && r.Status == RunStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true), cancellationToken);
        }

        var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null) return Problems.RunNotFound(id);
        if (changed == 0)
            return Problems.Conflict("Run has ended", $"Run {id} is {run.Status.ToWire()}; only queued or running runs can be cancelled.");
        cancellations.TryCancel(id);
        events.Notify(id);
        await Audit.RecordNowAsync(db, context.User, "run.cancel", id.ToString(), cancellationToken);
        return TypedResults.Accepted($"/api/runs/{id}", run.AsRunResponse());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun(
        Guid id, HttpContext context, TrainingDbContext db, RunCancellations cancellations, RunEvents events, ModelCache models, CancellationToken cancellationToken)
    {
        // Deleting the row is the cancel signal too: the executor's next lease check finds nothing and stops
        // without writing; the foreign keys take the metrics and weights with it.
        var deleted = await db.Runs.Where(r => r.Id == id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0) return Problems.RunNotFound(id);
        cancellations.TryCancel(id);
        models.Remove(id);
        events.Notify(id);
        await Audit.RecordNowAsync(db, context.User, "run.delete", id.ToString(), cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult, ValidationProblem>> GetWeights(
        Guid id, [FromQuery] string? kind, TrainingDbContext db, CancellationToken cancellationToken)
    {
        var wanted = WeightsKind.Final;
        if (kind is not null && (!Enum.TryParse(kind, true, out wanted) || int.TryParse(kind, out _)))
            return Problems.Invalid("kind", $"Unknown weights kind '{kind}'. Accepted: final, best, checkpoint, initial.");
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.Name, r.Status }).SingleOrDefaultAsync(cancellationToken);
        if (run is null) return Problems.RunNotFound(id);
        // Streamed from the database to the client: the response holds the reader until it is sent.
        var blob = WeightsStore.OpenRead(db, id, wanted);
        if (blob is null)
            return Problems.NotFound("No weights", $"Run {id} ({run.Status.ToWire()}) has no {wanted.ToString().ToLowerInvariant()} weights yet.");
        var file = $"{run.Name ?? id.ToString()}-{wanted.ToString().ToLowerInvariant()}-epoch{blob.Epoch}.bin";
        return TypedResults.Stream(blob, "application/octet-stream", file);
    }
}
