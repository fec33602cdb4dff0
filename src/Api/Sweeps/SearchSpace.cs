using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Sweeps;

/// <summary>Where one hyperparameter's values come from.</summary>
public abstract record Domain
{
    /// <summary>One value drawn with <paramref name="rng"/>.</summary>
    public abstract JsonNode? Sample(Random rng);

    /// <summary>Values that stand for everything the domain can produce, for validation before any trial runs:
    /// every choice; the bounds of a range and a non-integer point inside it.</summary>
    public abstract IEnumerable<JsonNode?> Representatives();

    /// <summary>Rounded to 6 significant digits so tables and specs read well; kept inside [lo, hi].</summary>
    protected static double Round(double v, double lo, double hi)
    {
        if (v == 0) return 0;
        var digits = 6 - (int)Math.Floor(Math.Log10(Math.Abs(v))) - 1;
        var r = digits is >= 0 and <= 15 ? Math.Round(v, digits) : v;
        return Math.Clamp(r, lo, hi);
    }
}

public sealed record ChoiceDomain(IReadOnlyList<JsonNode?> Choices) : Domain
{
    public override JsonNode? Sample(Random rng) => Choices[rng.Next(Choices.Count)]?.DeepClone();
    public override IEnumerable<JsonNode?> Representatives() => Choices.Select(c => c?.DeepClone());
}

public sealed record UniformDomain(double Low, double High) : Domain
{
    public override JsonNode? Sample(Random rng) => JsonValue.Create(Round(Low + rng.NextDouble() * (High - Low), Low, High));
    public override IEnumerable<JsonNode?> Representatives() =>
        [JsonValue.Create(Low), JsonValue.Create(High), JsonValue.Create(Round(Low + 0.381966 * (High - Low), Low, High))];
}

public sealed record LogUniformDomain(double Low, double High) : Domain
{
    public override JsonNode? Sample(Random rng) =>
        JsonValue.Create(Round(Math.Exp(Math.Log(Low) + rng.NextDouble() * (Math.Log(High) - Math.Log(Low))), Low, High));
    public override IEnumerable<JsonNode?> Representatives() =>
        [JsonValue.Create(Low), JsonValue.Create(High), JsonValue.Create(Round(Math.Sqrt(Low * High) * 1.0131, Low, High))];
}

public sealed record IntUniformDomain(int Low, int High) : Domain
{
    public override JsonNode? Sample(Random rng) => JsonValue.Create(rng.Next(Low, High + 1));
    public override IEnumerable<JsonNode?> Representatives() => [JsonValue.Create(Low), JsonValue.Create(High)];
}

/// <summary>A search space: hyperparameters keyed by <see cref="SpecPath"/>, in the order the request lists them.</summary>
public sealed class SearchSpace
{
    public const int MaxChoices = 100;
    private static readonly string[] Kinds = ["choice", "uniform", "log_uniform", "int_uniform"];

    private SearchSpace(IReadOnlyList<(SpecPath Path, Domain Domain)> parameters) => Parameters = parameters;

    public IReadOnlyList<(SpecPath Path, Domain Domain)> Parameters { get; }

    public bool IsDiscrete => Parameters.All(p => p.Domain is ChoiceDomain);

    /// <summary>Points of the full grid (last parameter varying fastest); only for a space of choices.</summary>
    public long GridSize => Parameters.Aggregate(1L, (n, p) => n * ((ChoiceDomain)p.Domain).Choices.Count);

    public static SearchSpace? Parse(JsonElement space, string at, ValidationErrors errors)
    {
        if (space.ValueKind != JsonValueKind.Object || !space.EnumerateObject().Any())
        {
            errors.Add(at, "Expected an object of JSON path → domain, e.g. {\"compile.optimizer.learning_rate\": {\"log_uniform\": [0.0001, 0.01]}}.");
            return null;
        }
        var parameters = new List<(SpecPath, Domain)>();
        var ok = true;
        foreach (var p in space.EnumerateObject())
        {
            var key = $"{at}.{p.Name}";
            var path = SpecPath.TryParse(p.Name, out var pathError);
            if (path is null)
            {
                errors.Add(key, pathError!);
                ok = false;
                continue;
            }
            var domain = ParseDomain(p.Value, key, errors);
            if (domain is null) ok = false;
            else parameters.Add((path, domain));
        }
        return ok ? new SearchSpace(parameters) : null;
    }

    private static Domain? ParseDomain(JsonElement d, string key, ValidationErrors errors)
    {
        var accepted = "one of {\"choice\": [64, 128]}, {\"uniform\": [0.0, 0.5]}, {\"log_uniform\": [0.0001, 0.01]}, {\"int_uniform\": [16, 256]}";
        if (d.ValueKind != JsonValueKind.Object || d.EnumerateObject().Count() != 1 || !Kinds.Contains(d.EnumerateObject().First().Name))
        {
            errors.Add(key, $"Expected {accepted}.");
            return null;
        }
        var (kind, args) = (d.EnumerateObject().First().Name, d.EnumerateObject().First().Value);
        if (kind == "choice")
        {
            if (args.ValueKind != JsonValueKind.Array || args.GetArrayLength() is 0 or > MaxChoices)
            {
                errors.Add(key, $"\"choice\" needs a list of 1 to {MaxChoices} values.");
                return null;
            }
            return new ChoiceDomain(args.EnumerateArray().Select(e => JsonNode.Parse(e.GetRawText())).ToList());
        }
        if (args.ValueKind != JsonValueKind.Array || args.GetArrayLength() != 2 || args.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
        {
            errors.Add(key, $"\"{kind}\" needs [low, high], two numbers.");
            return null;
        }
        var lo = args[0].GetDouble();
        var hi = args[1].GetDouble();
        if (!(lo < hi) || !double.IsFinite(lo) || !double.IsFinite(hi))
        {
            errors.Add(key, $"\"{kind}\" needs low < high; got [{Fmt(lo)}, {Fmt(hi)}].");
            return null;
        }
        switch (kind)
        {
            case "log_uniform" when lo <= 0:
                errors.Add(key, $"\"log_uniform\" needs a positive low bound; got {Fmt(lo)}.");
                return null;
            case "log_uniform":
                return new LogUniformDomain(lo, hi);
            case "int_uniform" when !args[0].TryGetInt32(out _) || !args[1].TryGetInt32(out _):
                errors.Add(key, $"\"int_uniform\" needs integer bounds; got [{Fmt(lo)}, {Fmt(hi)}].");
                return null;
            case "int_uniform":
                return new IntUniformDomain(args[0].GetInt32(), args[1].GetInt32());
            default:
                return new UniformDomain(lo, hi);
        }
    }

    /// <summary>The trials' values: every grid point in order, or <paramref name="count"/> seeded draws.</summary>
    public List<JsonObject> Points(bool grid, int count, int seed)
    {
        var points = new List<JsonObject>();
        if (grid)
        {
            var choices = Parameters.Select(p => ((ChoiceDomain)p.Domain).Choices).ToList();
            var index = new int[choices.Count];
            while (points.Count < count)
            {
                var point = new JsonObject();
                for (var i = 0; i < choices.Count; i++) point[Parameters[i].Path.Text] = choices[i][index[i]]?.DeepClone();
                points.Add(point);
                var k = choices.Count - 1;
                while (k >= 0 && ++index[k] == choices[k].Count) index[k--] = 0;
                if (k < 0) break;
            }
            return points;
        }
        var rng = new Random(seed);
        for (var t = 0; t < count; t++)
        {
            var point = new JsonObject();
            foreach (var (path, domain) in Parameters) point[path.Text] = domain.Sample(rng);
            points.Add(point);
        }
        return points;
    }

    /// <summary>The base spec with <paramref name="point"/>'s values written at their paths.</summary>
    public JsonObject Apply(JsonObject baseSpec, JsonObject point, out List<(string Path, string Error)> errors)
    {
        var spec = baseSpec.DeepClone().AsObject();
        errors = [];
        foreach (var (path, _) in Parameters)
        {
            if (path.Apply(spec, point[path.Text]) is { } e) errors.Add((path.Text, e));
        }
        return spec;
    }

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
