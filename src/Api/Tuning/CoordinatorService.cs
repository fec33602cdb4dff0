using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Tuning;

/// <summary>
/// A background loop that advances work coordinated from the tables (cross-validation runs, sweeps) every
/// <c>Tuning:CoordinatorIntervalSeconds</c>. A failed pass is logged and retried on the next tick; all state is in
/// the database, so a restart simply continues.
/// </summary>
public abstract class CoordinatorService(IOptions<TuningOptions> options, ILogger logger, string what) : BackgroundService
{
    protected ILogger Logger { get; } = logger;

    /// <summary>One pass over every unfinished item.</summary>
    public abstract Task AdvanceAllAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(0.05, options.Value.CoordinatorIntervalSeconds)));
        do
        {
            try
            {
                await AdvanceAllAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Logger.LogWarning(e, "{What} scan failed; will retry", what);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
