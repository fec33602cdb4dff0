using TrainingService.Training.Specs;

namespace TrainingService.Api.Infrastructure;

/// <summary>Collects request errors keyed by JSON path, in the shape <c>ValidationProblem</c> wants.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string path, string message)
    {
        path = string.IsNullOrEmpty(path) ? "$" : path;
        if (!_errors.TryGetValue(path, out var list)) _errors[path] = list = [];
        if (!list.Contains(message)) list.Add(message);
    }

    public void AddRange(IEnumerable<SpecError> errors)
    {
        foreach (var e in errors) Add(e.Path, e.Message);
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
}
