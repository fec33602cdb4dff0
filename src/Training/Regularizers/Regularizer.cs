using System.Text.Json;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Regularizers;

/// <summary>Keras's L1/L2 penalty: <c>l1·Σ|w| + l2·Σw²</c> (no ½). Accepts <c>"l2"</c>, <c>{"l2": 0.001}</c>,
/// <c>{"type": "L1L2", "l1": …, "l2": …}</c> and Keras's <c>{"class_name": "L2", "config": {"l2": …}}</c>.</summary>
public sealed class Regularizer : IConfigValue<Regularizer>
{
    public Regularizer(double l1, double l2) { L1 = l1; L2 = l2; }

    public double L1 { get; }
    public double L2 { get; }

    public static Regularizer? ParseConfig(JsonElement value, string path, List<SpecError> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            switch (value.GetString()!.ToLowerInvariant())
            {
                case "l1": return new Regularizer(0.01, 0);
                case "l2": return new Regularizer(0, 0.01);
                case "l1_l2" or "l1l2": return new Regularizer(0.01, 0.01);
            }
            errors.Add(new SpecError(path, $"unknown regularizer \"{value.GetString()}\"; accepted: l1, l2, l1_l2"));
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, $"expected a regularizer name or object, got {ConfigBinder.Describe(value)}"));
            return null;
        }
        var kind = value.TryGetProperty("class_name", out var cn) ? Name(cn)
            : value.TryGetProperty("type", out var ty) ? Name(ty) : null;
        var config = value.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : value;
        if (kind is not null && kind is not ("L1" or "L2" or "L1L2" or "l1" or "l2" or "l1_l2"))
        {
            errors.Add(new SpecError(path, $"unknown regularizer \"{kind}\"; accepted: L1, L2, L1L2"));
            return null;
        }
        double l1 = kind is "L1" or "l1" ? 0.01 : 0, l2 = kind is "L2" or "l2" ? 0.01 : 0;
        foreach (var p in config.EnumerateObject())
        {
            if (p.Name is "type" or "class_name" or "module" or "registered_name" or "config") continue;
            if (p.Name is not ("l1" or "l2"))
            {
                errors.Add(new SpecError($"{path}.{p.Name}", "unknown key; accepted keys are l1, l2"));
                continue;
            }
            if (p.Value.ValueKind != JsonValueKind.Number || p.Value.GetDouble() < 0)
            {
                errors.Add(new SpecError($"{path}.{p.Name}", "expected a number >= 0"));
                continue;
            }
            if (p.Name == "l1") l1 = p.Value.GetDouble(); else l2 = p.Value.GetDouble();
        }
        return new Regularizer(l1, l2);
    }

    public Tensor Penalty(Tensor w)
    {
        Tensor? total = null;
        if (L1 > 0) total = w.abs().sum() * L1;
        if (L2 > 0)
        {
            var l2 = w.square().sum() * L2;
            total = total is null ? l2 : total + l2;
        }
        return total ?? zeros(1).sum();
    }

    public object Describe() => new Dictionary<string, object> { ["class_name"] = "L1L2", ["config"] = new { l1 = L1, l2 = L2 } };

    /// <summary>A name as given, or its JSON text when it is not a string (so it is refused as unknown, by name).</summary>
    private static string Name(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
}
