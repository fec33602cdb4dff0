using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TrainingService.Api.Sweeps;

/// <summary>
/// A JSON path into a run spec as the validation errors write them (<c>model.layers[0].units</c>,
/// <c>compile.optimizer.learning_rate</c>): property names separated by dots, array indices in brackets.
/// </summary>
public sealed partial class SpecPath
{
    private static readonly string[] Sections = ["dataset", "model", "compile", "fit"];

    [GeneratedRegex(@"^(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<index>\[\d+\])*$")]
    private static partial Regex Segment();

    private SpecPath(string text, IReadOnlyList<object> steps)
    {
        Text = text;
        Steps = steps;
    }

    public string Text { get; }

    /// <summary>Property names (string) and array indices (int), in order.</summary>
    public IReadOnlyList<object> Steps { get; }

    public static SpecPath? TryParse(string text, out string? error)
    {
        error = null;
        var steps = new List<object>();
        foreach (var part in text.Split('.'))
        {
            var m = Segment().Match(part);
            if (!m.Success)
            {
                error = $"'{text}' is not a path such as \"model.layers[0].units\" or \"compile.optimizer.learning_rate\".";
                return null;
            }
            steps.Add(m.Groups["name"].Value);
            foreach (Capture c in m.Groups["index"].Captures)
                steps.Add(int.Parse(c.Value.AsSpan(1, c.Value.Length - 2), CultureInfo.InvariantCulture));
        }
        if (steps[0] is not string first || !Sections.Contains(first))
        {
            error = $"'{text}' must start with one of {string.Join(", ", Sections)}.";
            return null;
        }
        return new SpecPath(text, steps);
    }

    /// <summary>Sets the value at this path in <paramref name="spec"/>. Every step but the last must exist; the last
    /// may add a key to an object. A string where an object is needed (<c>"optimizer": "adam"</c>) becomes
    /// <c>{"type": "adam"}</c>, the object form every Keras-style section accepts. Returns an error or null.</summary>
    public string? Apply(JsonObject spec, JsonNode? value)
    {
        JsonNode current = spec;
        for (var i = 0; i < Steps.Count; i++)
        {
            var last = i == Steps.Count - 1;
            var where = Describe(i);
            switch (Steps[i], current)
            {
                case (string key, JsonObject obj):
                    if (last)
                    {
                        obj[key] = value?.DeepClone();
                        return null;
                    }
                    if (!obj.TryGetPropertyValue(key, out var next) || next is null)
                        return $"the base spec has no '{Describe(i + 1)}'; write it out in the base spec so the path has somewhere to go.";
                    if (next is JsonValue v && v.TryGetValue<string>(out var type) && Steps[i + 1] is string)
                        obj[key] = next = new JsonObject { ["type"] = type };
                    current = next;
                    break;
                case (int index, JsonArray array):
                    if (index >= array.Count)
                        return $"'{where}' has {array.Count} item(s); index {index} is out of range.";
                    if (last)
                    {
                        array[index] = value?.DeepClone();
                        return null;
                    }
                    current = array[index] ?? throw new InvalidOperationException();
                    break;
                default:
                    return $"'{where}' is not {(Steps[i] is int ? "an array" : "an object")} in the base spec.";
            }
        }
        return null;
    }

    private string Describe(int steps)
    {
        var text = "";
        foreach (var s in Steps.Take(steps))
            text += s is int i ? $"[{i}]" : (text.Length == 0 ? "" : ".") + s;
        return text.Length == 0 ? "$" : text;
    }

    public override string ToString() => Text;
}
