using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;

namespace TrainingService.Api.Jobs;

/// <summary>
/// <see cref="IClusterSignals"/> over PostgreSQL <c>LISTEN/NOTIFY</c> on the database every node already shares:
/// no broker to run. One connection per node listens; published signals leave through a queue so that callers on
/// the training thread never wait for the network. A listener that loses its connection reconnects and tells its
/// subscribers they may have missed signals.
/// </summary>
public sealed class PostgresSignals(string connectionString, ILogger<PostgresSignals> logger) : BackgroundService, IClusterSignals
{
    private const string Channel = "training_signals";
    private readonly string _sender = Guid.NewGuid().ToString("N")[..12];
    private readonly Channel<string> _outbox = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, ConcurrentBag<(Action<Guid> OnSignal, Action? OnMissed)>> _subscribers = new();
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
    {
        KeepAlive = 5, // a dead server or network is noticed by the listener within seconds
        Pooling = true,
    }.ToString());

    public void Publish(string topic, Guid id) => _outbox.Writer.TryWrite($"{topic}:{id:N}:{_sender}");

    public void Subscribe(string topic, Action<Guid> onSignal, Action? onMissedSignals = null) =>
        _subscribers.GetOrAdd(topic, _ => []).Add((onSignal, onMissedSignals));

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), SendAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken ct)
    {
        var connectedBefore = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _source.OpenConnectionAsync(ct);
                connection.Notification += (_, e) => Dispatch(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                if (connectedBefore) Missed();
                connectedBefore = true;
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Cluster signal listener lost its connection; reconnecting");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task SendAsync(CancellationToken ct)
    {
        var pending = new List<string>();
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(ct))
            {
                while (pending.Count < 500 && _outbox.Reader.TryRead(out var payload)) pending.Add(payload);
                try
                {
                    await using var batch = _source.CreateBatch();
                    foreach (var payload in pending)
                        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify(@channel, @payload)")
                        {
                            Parameters = { new("channel", Channel), new("payload", payload) },
                        });
                    await batch.ExecuteNonQueryAsync(ct);
                    pending.Clear();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Kept and retried: the receivers' own database polls cover the delay meanwhile.
                    logger.LogWarning(e, "Sending {Count} cluster signal(s) failed; retrying", pending.Count);
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Dispatch(string payload)
    {
        var parts = payload.Split(':');
        if (parts.Length != 3 || parts[2] == _sender || !Guid.TryParseExact(parts[1], "N", out var id)) return;
        if (!_subscribers.TryGetValue(parts[0], out var handlers)) return;
        foreach (var (onSignal, _) in handlers)
        {
            try
            {
                onSignal(id);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Handling cluster signal {Payload} failed", payload);
            }
        }
    }

    private void Missed()
    {
        foreach (var (_, onMissed) in _subscribers.Values.SelectMany(h => h)) onMissed?.Invoke();
    }

    public override void Dispose()
    {
        base.Dispose();
        _source.Dispose();
    }
}
