namespace TrainingService.Api.Runs;

/// <summary>The run statuses as the API documents them (the OpenAPI description of every <c>status</c> field).</summary>
public static class RunStatuses
{
    public const string Description =
        "queued: accepted, waiting for an executor. "
        + "running: training on an executor (a run interrupted by a crash or a shutdown goes back to queued and resumes from its last checkpoint). "
        + "succeeded: trained to the end, or stopped early by its EarlyStopping callback; its final weights serve predictions. "
        + "stopped: a sweep trial ended at a rung by the sweep's early stopping (ASHA); the epochs it finished are its result "
        + "(error says at which epoch). "
        + "failed: the spec, the data or the engine refused it; error says why. "
        + "cancelled: stopped on request (or with its sweep or cross-validation run); the epochs it finished stay recorded.";
}
