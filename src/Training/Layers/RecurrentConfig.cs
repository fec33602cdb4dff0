using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>The config keys Keras's recurrent layers share (SimpleRNN, LSTM, GRU).</summary>
public abstract record RecurrentConfig : Layer
{
    [Range(1)] public required int Units { get; init; }
    [ActivationName] public string Activation { get; init; } = "tanh";
    public bool UseBias { get; init; } = true;
    public Initializer KernelInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer RecurrentInitializer { get; init; } = Initializer.Named("orthogonal");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? KernelRegularizer { get; init; }
    public Regularizer? RecurrentRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public JsonElement? KernelConstraint { get; init; }
    public JsonElement? RecurrentConstraint { get; init; }
    public JsonElement? BiasConstraint { get; init; }
    [Range(0, 1, MaxExclusive = true)] public double Dropout { get; init; }
    [Range(0, 1, MaxExclusive = true)] public double RecurrentDropout { get; init; }
    public bool ReturnSequences { get; init; }
    public bool ReturnState { get; init; }
    public bool GoBackwards { get; init; }
    public bool Stateful { get; init; }
    public bool Unroll { get; init; }
    public int? Seed { get; init; }
    /// <summary>Keras 2's kernel-fusion switch; changes nothing about the result.</summary>
    public int? Implementation { get; init; }
    public bool TimeMajor { get; init; }
    public bool? ZeroOutputForMask { get; init; }

    /// <summary>How many state tensors the layer returns after its output when <c>return_state</c> is set.</summary>
    protected abstract int StateCount { get; }

    public override int MaxInputs => 1;

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Stateful) yield return new SpecError($"{path}.stateful", "stateful recurrent layers are not supported (each batch starts from zero state)");
        if (TimeMajor) yield return new SpecError($"{path}.time_major", "time_major inputs are not supported; data are batch-major");
        foreach (var (key, value) in new[] { ("kernel_constraint", KernelConstraint), ("recurrent_constraint", RecurrentConstraint), ("bias_constraint", BiasConstraint) })
        {
            if (value is { ValueKind: not JsonValueKind.Null })
                yield return new SpecError($"{path}.{key}", "weight constraints are not supported");
        }
    }

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank != 2) throw Expects("a sequence input (timesteps, features)", x, x.Rank == 1 ? "add Embedding or Reshape to (timesteps, 1)" : "add Reshape or TimeDistributed(Flatten)");
        if (x.Last < 0) throw Expects("a known feature dimension", x);
        var output = ReturnSequences ? new Shape(x[0], Units) : new Shape(Units);
        if (!ReturnState) return [output];
        return [output, .. Enumerable.Repeat(new Shape(Units), StateCount)];
    }

    public override bool KeepsMask => ReturnSequences;
}
