using TrainingService.Persistence.Runs;
using TrainingService.Persistence.Tuning;

namespace TrainingService.Api.CrossValidation;

public static class CrossValidationRuns
{
    /// <summary>Turns an accepted run into a cross-validation run. It is <c>running</c> from the start and holds no
    /// lease, so neither the training queue nor recovery ever trains it: <see cref="CrossValidationService"/> gives
    /// it its folds.</summary>
    public static void Accept(Run run, CrossValidationSpec cv)
    {
        run.Role = RunRoles.CrossValidation;
        run.Status = RunStatus.Running;
        run.StartedAt = run.CreatedAt;
        run.EpochsPlanned *= cv.Folds + (cv.Refit ? 1 : 0);
    }
}
