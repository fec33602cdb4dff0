using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;

namespace TrainingService.Api.Tuning;

/// <summary>
/// A background loop that advances work coordinated from the tables (cross-validation runs, sweeps) every
/// <c>Tuning:CoordinatorIntervalSeconds</c>. A failed pass is logged and retried on the next tick; all state is in
/// the database, so a restart simply continues. With several worker nodes, each pass runs under a database-wide
/// exclusive lock, so exactly one coordinator of a kind acts at a time; the others skip that tick.
/// </summary>
public abstract class CoordinatorService(IDbContextFactory<TrainingDbContext> contexts, IOptions<TuningOptions> options, ILogger logger, string what)
    : BackgroundService
{
    protected ILogger Logger { get; } = logger;

    protected IDbContextFactory<TrainingDbContext> Contexts { get; } = contexts;

    /// <summary>One pass over every unfinished item.</summary>
    public abstract Task AdvanceAllAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(0.05, options.Value.CoordinatorIntervalSeconds)));
        do
        {
            try
            {
                await using var exclusive = await DatabaseSetup.TryExclusiveAsync(Contexts, $"coordinator:{what}", stoppingToken);
                if (exclusive is not null) await AdvanceAllAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Logger.LogWarning(e, "{What} scan failed; will retry", what);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
