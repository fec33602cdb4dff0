using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;

namespace TrainingService.Api.Jobs;

/// <summary>What one round of an event stream read: the events to send now, and whether the stream ends after them.</summary>
public sealed record EventRound(IReadOnlyList<SseItem<string>> Events, bool Ended);

/// <summary>
/// The loop every Server-Sent Events stream of the API follows (a run's, a sweep's). Each round re-reads the database
/// in a context of its own, so the stream is right whichever process changed the thing it follows; a
/// <see cref="RunEvents"/> signal only makes the next round come sooner than <c>poll</c>.
/// </summary>
public static class EventStreams
{
    /// <summary>Rounds of <paramref name="read"/> until it says the stream has ended, the thing it follows is gone (it
    /// answers null: a last <c>status</c> event says <c>deleted</c>), or the client goes away.</summary>
    public static async IAsyncEnumerable<SseItem<string>> FollowAsync(
        Guid id, IDbContextFactory<TrainingDbContext> contexts, RunEvents events, TimeSpan poll,
        Func<TrainingDbContext, CancellationToken, Task<EventRound?>> read, [EnumeratorCancellation] CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // Waiting starts before the read, so a change signalled while reading is not missed.
            var wake = events.WaitAsync(id, poll, ct);
            EventRound? round;
            await using (var db = await contexts.CreateDbContextAsync(ct))
                round = await read(db, ct);
            if (round is null)
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(new { id, status = "deleted" }, Json.Options), "status");
                yield break;
            }
            foreach (var e in round.Events) yield return e;
            if (round.Ended) yield break;
            try
            {
                await wake;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }
}
