namespace TrainingService.Training.Specs;

/// <summary>One problem with a submitted definition: where it is (a JSON path such as
/// <c>model.layers[2].units</c>) and what is wrong, including what would have been accepted.</summary>
public sealed record SpecError(string Path, string Message)
{
    public override string ToString() => string.IsNullOrEmpty(Path) ? Message : $"{Path}: {Message}";
}
