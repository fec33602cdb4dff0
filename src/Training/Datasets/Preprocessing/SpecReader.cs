using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>Reads typed values out of a JSON section while collecting every error with its path.</summary>
internal sealed class SpecReader(string prefix)
{
    private readonly List<SpecError> _errors = [];

    public IReadOnlyList<SpecError> Errors => _errors;

    public void Error(string path, string message) =>
        _errors.Add(new SpecError(string.IsNullOrEmpty(path) ? prefix : $"{prefix}.{path}", message));

    public void ThrowIfAny()
    {
        if (_errors.Count > 0) throw new SpecException(_errors.ToArray());
    }

    private static string Join(string at, string key) => string.IsNullOrEmpty(at) ? key : $"{at}.{key}";

    public void UnknownKeys(JsonElement obj, string at, IReadOnlyList<string> accepted)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (!accepted.Contains(p.Name))
                Error(Join(at, p.Name), $"unknown key; accepted: {string.Join(", ", accepted)}.");
        }
    }

    public string? String(JsonElement obj, string key, string at = "")
    {
        if (!obj.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0) return v.GetString();
        Error(Join(at, key), "must be a non-empty string.");
        return null;
    }

    public bool? Bool(JsonElement obj, string key, string at)
    {
        if (!obj.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        Error(Join(at, key), "must be true or false.");
        return null;
    }

    public double? Number(JsonElement obj, string key, string at)
    {
        if (!obj.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        Error(Join(at, key), "must be a number.");
        return null;
    }

    public int? Int(JsonElement obj, string key, string at, int min)
    {
        if (!obj.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i >= min) return i;
        Error(Join(at, key), $"must be an integer ≥ {min}.");
        return null;
    }

    public string? Choice(JsonElement obj, string key, string at, string[] choices)
    {
        if (!obj.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String && choices.Contains(v.GetString())) return v.GetString();
        Error(Join(at, key), $"must be one of {string.Join(", ", choices.Select(c => $"\"{c}\""))}.");
        return null;
    }

    public IReadOnlyList<string>? StringList(JsonElement v, string at)
    {
        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            var list = v.EnumerateArray().Select(e => e.GetString()!).ToArray();
            if (list.Distinct().Count() != list.Length) Error(at, "lists a column twice.");
            return list;
        }
        Error(at, "must be a list of column names.");
        return null;
    }
}
