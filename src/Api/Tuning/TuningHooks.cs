using System.Text.Json;
using TrainingService.Api.CrossValidation;
using TrainingService.Api.Datasets;
using TrainingService.Api.Jobs;
using TrainingService.Api.Sweeps;
using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Tuning;

/// <summary>What cross-validation and sweeps decide about a run a training job trains: a fold trains on the other
/// folds and is scored on its own, its preprocessing fitted on the other folds only; a sweep trial reports each epoch
/// to the sweep's early-stopping scheduler.</summary>
public sealed class TuningHooks(AshaScheduler scheduler) : ITrainingHooks
{
    public IRunData Data(Run run, JsonElement spec) => new FoldRunData(FoldData.SplitterFor(run, CrossValidationSpec.FromSpec(spec)));

    /// <summary>The observer the job trains with: the recorder itself, or for a sweep trial the recorder followed
    /// by the sweep's early-stopping scheduler (which judges the epoch once it is stored).</summary>
    public ITrainingObserver Observe(Run run, ITrainingObserver recorder)
    {
        if (run.Role != RunRoles.Trial || run.SweepId is not { } sweepId) return recorder;
        scheduler.OnStart(run.Id);
        return new TrialObserver(recorder, scheduler, run.Id, sweepId, run.EpochsPlanned);
    }

    public string? StoppedBy(Guid runId) =>
        scheduler.StoppedAt(runId) is { } epoch ? $"Stopped by the sweep's early stopping at its rung at epoch {epoch}." : null;

    private sealed class FoldRunData(FoldSplitter? splitter) : IRunData
    {
        public Training.Datasets.Preprocessing.FitOn? FitOn => splitter is null ? null : splitter.FitOn;

        public ITrainingSets Take(PreparedData data) => FoldData.For(data, splitter);
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
