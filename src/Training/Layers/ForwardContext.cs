using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>What a forward pass carries besides tensors: training or inference, the run's random generator (dropout,
/// noise), the mask of the current layer's input, the mask its output should carry, and extra losses.</summary>
public sealed class ForwardContext(bool training, Generator rng)
{
    public bool Training { get; } = training;
    public Generator Rng { get; } = rng;

    /// <summary>The mask of the layer's first input (batch, steps), true where a step is real; null when none.</summary>
    public Tensor? InputMask { get; set; }

    /// <summary>Set by a layer that produces or changes a mask; the graph keeps the input mask for layers that keep it.</summary>
    public Tensor? OutputMask { get; set; }

    /// <summary>Activity-regularization losses added during this pass.</summary>
    public List<Tensor> Losses { get; } = [];

    /// <summary>Pre-activation values of outputs that went through softmax or sigmoid, so cross-entropy can be computed
    /// from logits exactly (as Keras's TensorFlow backend does).</summary>
    public Dictionary<Tensor, (Tensor Logits, string Activation)> Logits { get; } = new(ReferenceEqualityComparer.Instance);
}
