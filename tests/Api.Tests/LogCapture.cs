using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TrainingService.Api.Tests;

/// <summary>Keeps every log line of the app with the properties of the scopes it was written in.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> State, IReadOnlyDictionary<string, object?> Scopes);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new Dictionary<string, object?>();
            capture._scopes.ForEachScope((scope, into) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    foreach (var (k, v) in pairs) into[k] = v;
            }, scopes);
            var properties = state is IEnumerable<KeyValuePair<string, object?>> p ? p.ToDictionary(x => x.Key, x => x.Value) : [];
            capture.Entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), properties, scopes));
        }
    }
}
