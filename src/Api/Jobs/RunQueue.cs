using Hangfire;

namespace TrainingService.Api.Jobs;

/// <summary>Puts a run on the training queue. Only the id travels: the job reads everything else from the runs
/// table, which stays the truth however often a job is fetched.</summary>
public sealed class RunQueue(IBackgroundJobClient jobs)
{
    public const string QueueName = "training";

    public string Enqueue(Guid runId) =>
        jobs.Enqueue<TrainRunJob>(QueueName, job => job.ExecuteAsync(runId, CancellationToken.None));
}
