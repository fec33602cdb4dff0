namespace TrainingService.Persistence.Security;

/// <summary>One security-relevant action: who did what to which object, and when. Written in the same transaction
/// as the change it records where there is one.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>The principal: <c>key:&lt;name&gt;</c> or the token's subject, with its owner.</summary>
    public required string Actor { get; set; }

    public string? Owner { get; set; }

    /// <summary><c>run.submit</c>, <c>run.cancel</c>, <c>run.delete</c>, <c>sweep.submit</c>, <c>key.create</c>, …</summary>
    public required string Action { get; set; }

    /// <summary>The object acted on (a run, sweep or key id, a model name).</summary>
    public string? Target { get; set; }

    public string? Detail { get; set; }
}
