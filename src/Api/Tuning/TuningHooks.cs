using TrainingService.Api.Sweeps;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Tuning;

/// <summary>What a training job asks the tuning features about the run it trains (issue 7).</summary>
public sealed class TuningHooks(AshaScheduler scheduler)
{
    /// <summary>The observer the job trains with: the recorder itself, or for a sweep trial the recorder followed
    /// by the sweep's early-stopping scheduler (which judges the epoch once it is stored).</summary>
    public ITrainingObserver Observe(Run run, ITrainingObserver recorder)
    {
        if (run.Role != RunRoles.Trial || run.SweepId is not { } sweepId) return recorder;
        scheduler.OnStart(run.Id);
        return new TrialObserver(recorder, scheduler, run.Id, sweepId, run.EpochsPlanned);
    }

    private sealed class TrialObserver(ITrainingObserver inner, AshaScheduler scheduler, Guid runId, Guid sweepId, int planned) : ITrainingObserver
    {
        public void OnEpochEnd(EpochReport report, Func<byte[]> checkpoint)
        {
            inner.OnEpochEnd(report, checkpoint);
            scheduler.OnEpoch(runId, sweepId, report.Epoch, planned);
        }
    }
}
