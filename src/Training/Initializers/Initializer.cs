using System.Text.Json;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Initializers;

/// <summary>
/// A Keras initializer: by name (<c>"glorot_uniform"</c>), as <c>{"class_name": "GlorotUniform", "config": {…}}</c>
/// (every Keras version's form, with or without <c>module</c>), or natively as <c>{"type": "RandomNormal", "stddev": 0.1}</c>.
/// Values are drawn in Keras's weight layout with Keras's fans and the run's generator.
/// </summary>
public sealed class Initializer : IConfigValue<Initializer>
{
    private Initializer(string kind, IReadOnlyDictionary<string, double> config, string? distribution = null, string? mode = null)
    {
        Kind = kind;
        Config = config;
        Distribution = distribution;
        Mode = mode;
    }

    public string Kind { get; }
    public IReadOnlyDictionary<string, double> Config { get; }
    public string? Distribution { get; }
    public string? Mode { get; }

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["glorot_uniform"] = "GlorotUniform", ["glorotuniform"] = "GlorotUniform", ["xavier_uniform"] = "GlorotUniform",
        ["glorot_normal"] = "GlorotNormal", ["glorotnormal"] = "GlorotNormal",
        ["he_uniform"] = "HeUniform", ["heuniform"] = "HeUniform",
        ["he_normal"] = "HeNormal", ["henormal"] = "HeNormal",
        ["lecun_uniform"] = "LecunUniform", ["lecununiform"] = "LecunUniform",
        ["lecun_normal"] = "LecunNormal", ["lecunnormal"] = "LecunNormal",
        ["orthogonal"] = "Orthogonal", ["orthogonalinitializer"] = "Orthogonal",
        ["zeros"] = "Zeros", ["zero"] = "Zeros", ["ones"] = "Ones", ["one"] = "Ones",
        ["constant"] = "Constant",
        ["random_normal"] = "RandomNormal", ["randomnormal"] = "RandomNormal", ["normal"] = "RandomNormal",
        ["random_uniform"] = "RandomUniform", ["randomuniform"] = "RandomUniform", ["uniform"] = "RandomUniform",
        ["truncated_normal"] = "TruncatedNormal", ["truncatednormal"] = "TruncatedNormal",
        ["variance_scaling"] = "VarianceScaling", ["variancescaling"] = "VarianceScaling",
        ["identity"] = "Identity",
    };

    private static readonly Dictionary<string, string[]> AcceptedKeys = new()
    {
        ["GlorotUniform"] = ["seed"], ["GlorotNormal"] = ["seed"], ["HeUniform"] = ["seed"], ["HeNormal"] = ["seed"],
        ["LecunUniform"] = ["seed"], ["LecunNormal"] = ["seed"], ["Orthogonal"] = ["gain", "seed"], ["Zeros"] = [],
        ["Ones"] = [], ["Constant"] = ["value"], ["RandomNormal"] = ["mean", "stddev", "seed"],
        ["RandomUniform"] = ["minval", "maxval", "seed"], ["TruncatedNormal"] = ["mean", "stddev", "seed"],
        ["VarianceScaling"] = ["scale", "mode", "distribution", "seed"], ["Identity"] = ["gain"],
    };

    public static IEnumerable<string> Names => Aliases.Keys.Where(k => k.Contains('_') || k is "zeros" or "ones" or "constant" or "orthogonal" or "uniform" or "normal" or "identity");

    public static Initializer Named(string name) =>
        TryCreate(name, new Dictionary<string, double>(), null, null, "", []) ?? throw new ArgumentException(name);

    public static Initializer? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
            return TryCreate(value.GetString()!, new Dictionary<string, double>(), null, null, path, errors);
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, $"expected an initializer name or object, got {ConfigBinder.Describe(value)}"));
            return null;
        }
        string? kind = null;
        JsonElement config = value;
        if (value.TryGetProperty("class_name", out var cn) && cn.ValueKind == JsonValueKind.String)
        {
            kind = cn.GetString();
            if (!value.TryGetProperty("config", out config)) config = default;
        }
        else if (value.TryGetProperty("type", out var ty) && ty.ValueKind == JsonValueKind.String) kind = ty.GetString();
        if (kind is null)
        {
            errors.Add(new SpecError(path, "an initializer object needs \"class_name\" (Keras) or \"type\""));
            return null;
        }
        var numbers = new Dictionary<string, double>();
        string? mode = null, distribution = null;
        if (config.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in config.EnumerateObject())
            {
                if (p.Name is "type" or "dtype" || p.Value.ValueKind == JsonValueKind.Null) continue;
                if (p.Name == "mode" && p.Value.ValueKind == JsonValueKind.String) mode = p.Value.GetString();
                else if (p.Name == "distribution" && p.Value.ValueKind == JsonValueKind.String) distribution = p.Value.GetString();
                else if (p.Value.ValueKind == JsonValueKind.Number) numbers[p.Name] = p.Value.GetDouble();
                else errors.Add(new SpecError($"{path}.{p.Name}", $"expected a number, got {ConfigBinder.Describe(p.Value)}"));
            }
        }
        return TryCreate(kind, numbers, mode, distribution, path, errors);
    }

    private static Initializer? TryCreate(string kind, Dictionary<string, double> config, string? mode, string? distribution,
        string path, List<SpecError> errors)
    {
        var canonical = Aliases.TryGetValue(kind, out var c) ? c : AcceptedKeys.ContainsKey(kind) ? kind : null;
        if (canonical is null)
        {
            errors.Add(new SpecError(path, $"unknown initializer \"{kind}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        var accepted = AcceptedKeys[canonical];
        foreach (var key in config.Keys.Where(k => !accepted.Contains(k)))
            errors.Add(new SpecError($"{path}.{key}", $"unknown key for {canonical}; accepted: {string.Join(", ", accepted)}"));
        if (canonical == "VarianceScaling")
        {
            mode ??= "fan_in";
            distribution ??= "truncated_normal";
            if (distribution == "normal") distribution = "truncated_normal";
            if (mode is not ("fan_in" or "fan_out" or "fan_avg"))
                errors.Add(new SpecError($"{path}.mode", $"\"{mode}\" is not accepted; expected fan_in, fan_out or fan_avg"));
            if (distribution is not ("truncated_normal" or "untruncated_normal" or "uniform"))
                errors.Add(new SpecError($"{path}.distribution", $"\"{distribution}\" is not accepted; expected truncated_normal, untruncated_normal or uniform"));
        }
        return new Initializer(canonical, config, distribution, mode);
    }

    private double Get(string key, double fallback) => Config.TryGetValue(key, out var v) ? v : fallback;

    public object Describe()
    {
        var config = Config.ToDictionary(kv => kv.Key, kv => (object?)kv.Value);
        if (Mode is not null) config["mode"] = Mode;
        if (Distribution is not null) config["distribution"] = Distribution;
        return new Dictionary<string, object?> { ["class_name"] = Kind, ["config"] = config };
    }

    /// <summary>A new tensor of <paramref name="kerasShape"/> (Keras's weight layout) with this initializer's values.
    /// Fans follow Keras: for rank ≥ 2, fan_in = prod(shape[..-1]) and fan_out = prod(shape[..-2]) * shape[-1].</summary>
    public Tensor Create(long[] kerasShape, Generator rng)
    {
        var (fanIn, fanOut) = Fans(kerasShape);
        using var _ = no_grad();
        switch (Kind)
        {
            case "Zeros": return zeros(kerasShape);
            case "Ones": return ones(kerasShape);
            case "Constant": return full(kerasShape, Get("value", 0.0));
            case "RandomNormal": return empty(kerasShape).normal_(Get("mean", 0), Get("stddev", 0.05), rng);
            case "RandomUniform": return empty(kerasShape).uniform_(Get("minval", -0.05), Get("maxval", 0.05), rng);
            case "TruncatedNormal":
            {
                var mean = Get("mean", 0); var std = Get("stddev", 0.05);
                return nn.init.trunc_normal_(empty(kerasShape), mean, std, mean - 2 * std, mean + 2 * std, rng);
            }
            case "Orthogonal": return Orthogonal(kerasShape, Get("gain", 1.0), rng);
            case "Identity": return eye(kerasShape[0], kerasShape[^1]) * Get("gain", 1.0);
        }
        var (scale, fanMode, dist) = Kind switch
        {
            "GlorotUniform" => (1.0, "fan_avg", "uniform"),
            "GlorotNormal" => (1.0, "fan_avg", "truncated_normal"),
            "HeUniform" => (2.0, "fan_in", "uniform"),
            "HeNormal" => (2.0, "fan_in", "truncated_normal"),
            "LecunUniform" => (1.0, "fan_in", "uniform"),
            "LecunNormal" => (1.0, "fan_in", "truncated_normal"),
            _ => (Get("scale", 1.0), Mode!, Distribution!),
        };
        var n = fanMode switch { "fan_in" => fanIn, "fan_out" => fanOut, _ => (fanIn + fanOut) / 2.0 };
        n = Math.Max(1.0, n);
        var variance = scale / n;
        return dist switch
        {
            "uniform" => empty(kerasShape).uniform_(-Math.Sqrt(3 * variance), Math.Sqrt(3 * variance), rng),
            "untruncated_normal" => empty(kerasShape).normal_(0, Math.Sqrt(variance), rng),
            _ => TruncatedStd(kerasShape, Math.Sqrt(variance) / 0.87962566103423978, rng),
        };
    }

    private static Tensor TruncatedStd(long[] shape, double std, Generator rng) =>
        nn.init.trunc_normal_(empty(shape), 0, std, -2 * std, 2 * std, rng);

    public static (double FanIn, double FanOut) Fans(long[] shape)
    {
        if (shape.Length == 0) return (1, 1);
        if (shape.Length == 1) return (shape[0], shape[0]);
        if (shape.Length == 2) return (shape[0], shape[1]);
        var receptive = 1.0;
        for (var i = 0; i < shape.Length - 2; i++) receptive *= shape[i];
        return (receptive * shape[^2], receptive * shape[^1]);
    }

    // Keras: flatten to (prod(shape[:-1]), shape[-1]); QR of a normal matrix of the taller orientation; fix signs.
    private static Tensor Orthogonal(long[] shape, double gain, Generator rng)
    {
        var cols = shape[^1];
        var rows = shape.Take(shape.Length - 1).Aggregate(1L, (a, b) => a * b);
        var (r, c) = (Math.Max(rows, cols), Math.Min(rows, cols));
        using var a = empty(r, c).normal_(0, 1, rng);
        var (q, rr) = linalg.qr(a);
        using var d = rr.diagonal().sign();
        var qq = q * d.unsqueeze(0);
        if (rows < cols) qq = qq.t();
        var result = (qq * gain).reshape(shape).contiguous();
        q.Dispose(); rr.Dispose();
        return result;
    }
}
