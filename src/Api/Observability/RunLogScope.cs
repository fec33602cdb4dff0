using System.Collections;

namespace TrainingService.Api.Observability;

/// <summary>
/// A logging scope naming one run: every line logged inside it (the job's own, EF Core's, the engine's) carries
/// <c>RunId</c>, as a property in structured (JSON) logs and as <c>RunId:…</c> in plain console output.
/// </summary>
public static class RunLogScope
{
    public static IDisposable? BeginRunScope(this ILogger logger, Guid runId) => logger.BeginScope(new State(runId));

    private sealed class State(Guid runId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?> _item = new("RunId", runId);

        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? _item : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return _item;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"RunId:{_item.Value}";
    }
}
