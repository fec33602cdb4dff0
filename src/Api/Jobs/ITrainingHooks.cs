using System.Text.Json;
using TrainingService.Api.Datasets;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Jobs;

/// <summary>What a training job lets the features built on runs decide about the run it trains (a fold's data, a
/// sweep trial's early stopping), so the job knows runs and nothing of sweeps or cross-validation; the tuning folder
/// implements it.</summary>
public interface ITrainingHooks
{
    /// <summary>How the run's prepared data becomes what it trains, validates and is scored on.</summary>
    IRunData Data(Run run, JsonElement spec);

    /// <summary>The observer the job trains with, given the one that records each epoch.</summary>
    ITrainingObserver Observe(Run run, ITrainingObserver recorder);

    /// <summary>Why a run whose training was cancelled was stopped by the feature it belongs to (a sweep trial at a
    /// rung), rather than on request; null when nothing stopped it but a cancel request.</summary>
    string? StoppedBy(Guid runId);
}

/// <summary>The data plan of one run.</summary>
public interface IRunData
{
    /// <summary>The training examples the preprocessing is fitted on; null for all of them.</summary>
    FitOn? FitOn { get; }

    /// <summary>The sets taken from the data prepared with <see cref="FitOn"/>; disposing them frees what was copied.</summary>
    ITrainingSets Take(PreparedData data);
}

/// <summary>What a run trains on, validates on (null: the spec's own validation) and is scored on (null: not scored).</summary>
public interface ITrainingSets : IDisposable
{
    ArrayDataset Train { get; }
    ArrayDataset? Validation { get; }
    ArrayDataset? Score { get; }
}
