using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Security;

namespace TrainingService.Api.Security;

public sealed record AuditResponse(long Id, DateTimeOffset At, string Actor, string? Owner, string Action, string? Target, string? Detail);

public sealed record AuditPage(IReadOnlyList<AuditResponse> Items, int Page, int PageSize, int Total);

/// <summary>Who did what, when: recorded beside the change (same SaveChanges where there is one), read by admins.</summary>
public static class Audit
{
    /// <summary>Adds an entry to <paramref name="db"/>; it is written by the caller's next SaveChanges.</summary>
    public static void Record(TrainingDbContext db, ClaimsPrincipal user, string action, string? target, string? detail = null) =>
        Record(db, user.Actor(), user.Owner(), action, target, detail);

    /// <summary>An entry for what the service did on an owner's behalf (<paramref name="actor"/> names the part that acted).</summary>
    public static void Record(TrainingDbContext db, string actor, string? owner, string action, string? target, string? detail = null) =>
        db.Audit.Add(new AuditEntry
        {
            At = DateTimeOffset.UtcNow,
            Actor = actor,
            Owner = owner,
            Action = action,
            Target = target,
            Detail = detail,
        });

    /// <summary>Records an action whose change was already written (bulk updates and deletes).</summary>
    public static async Task RecordNowAsync(TrainingDbContext db, ClaimsPrincipal user, string action, string? target, CancellationToken ct)
    {
        Record(db, user, action, target);
        await db.SaveChangesAsync(ct);
    }

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", ListAudit).WithTags("Keys").RequireAuthorization(Scopes.Admin)
            .WithName("ListAudit").WithSummary("Audit entries, newest first (admin); filter by action, actor or target");
        return app;
    }

    public static async Task<Results<Ok<AuditPage>, ValidationProblem>> ListAudit(
        TrainingDbContext db, [FromQuery] string? action, [FromQuery] string? actor, [FromQuery] string? target,
        [FromQuery] int? page, [FromQuery(Name = "page_size")] int? pageSize, CancellationToken cancellationToken)
    {
        if (page is < 1) return Problems.Invalid("page", "Pages start at 1.");
        if (pageSize is < 1 or > 500) return Problems.Invalid("page_size", "Between 1 and 500.");
        var p = page ?? 1;
        var size = pageSize ?? 50;
        var query = db.Audit.AsNoTracking();
        if (action is not null) query = query.Where(a => a.Action == action);
        if (actor is not null) query = query.Where(a => a.Actor == actor);
        if (target is not null) query = query.Where(a => a.Target == target);
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(a => a.Id).Skip((p - 1) * size).Take(size).ToListAsync(cancellationToken);
        return TypedResults.Ok(new AuditPage(rows.Select(a => new AuditResponse(a.Id, a.At, a.Actor, a.Owner, a.Action, a.Target, a.Detail)).ToList(), p, size, total));
    }
}
