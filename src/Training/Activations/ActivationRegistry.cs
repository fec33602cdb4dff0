using static TorchSharp.torch;

namespace TrainingService.Training.Activations;

/// <summary>Keras's activation functions by name (Keras 3 formulas; <c>hard_sigmoid</c> is relu6(x+3)/6).</summary>
public static class ActivationRegistry
{
    private static readonly Dictionary<string, Func<Tensor, Tensor>> Functions = new(StringComparer.Ordinal)
    {
        ["linear"] = x => x.alias(),
        ["relu"] = x => nn.functional.relu(x),
        ["relu6"] = x => nn.functional.relu6(x),
        ["leaky_relu"] = x => nn.functional.leaky_relu(x, 0.2),
        ["elu"] = x => nn.functional.elu(x, 1.0),
        ["selu"] = x => nn.functional.selu(x),
        ["gelu"] = x => nn.functional.gelu(x),
        ["sigmoid"] = x => x.sigmoid(),
        ["hard_sigmoid"] = x => nn.functional.relu6(x + 3.0) / 6.0,
        ["hard_silu"] = x => x * nn.functional.relu6(x + 3.0) / 6.0,
        ["tanh"] = x => x.tanh(),
        ["softmax"] = x => x.softmax(-1),
        ["log_softmax"] = x => x.log_softmax(-1),
        ["softplus"] = x => nn.functional.softplus(x),
        ["softsign"] = x => nn.functional.softsign(x),
        ["swish"] = x => nn.functional.silu(x),
        ["silu"] = x => nn.functional.silu(x),
        ["mish"] = x => nn.functional.mish(x),
        ["exponential"] = x => x.exp(),
    };

    /// <summary>Keras 1/2's hard_sigmoid, clip(0.2x + 0.5, 0, 1), used for files written by those versions.</summary>
    public const string HardSigmoidKeras2 = "hard_sigmoid_keras2";

    static ActivationRegistry()
    {
        Functions[HardSigmoidKeras2] = x => (x * 0.2 + 0.5).clamp(0.0, 1.0);
    }

    public static IEnumerable<string> Names => Functions.Keys.Where(k => k != HardSigmoidKeras2);

    public static bool Exists(string name) => Functions.ContainsKey(name);

    public static Func<Tensor, Tensor> Get(string? name) =>
        Functions.TryGetValue(name ?? "linear", out var f) ? f : throw new KeyNotFoundException(name);

    /// <summary>Activations whose inverse input (logits) a cross-entropy loss can use for an exact, stable result.</summary>
    public static bool ProducesProbabilities(string? name) => name is "softmax" or "sigmoid";
}
