namespace TrainingService.Training.Specs;

/// <summary>Thrown when a definition is invalid. Carries every error found, not just the first.</summary>
public sealed class SpecException : Exception
{
    public SpecException(IReadOnlyList<SpecError> errors)
        : base(string.Join("; ", errors.Select(e => e.ToString())))
    {
        Errors = errors;
    }

    public SpecException(string path, string message) : this([new SpecError(path, message)]) { }

    public IReadOnlyList<SpecError> Errors { get; }
}
