using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>
/// What the SimpleRNN, LSTM and GRU modules share: Keras's go_backwards (the sequence is read reversed and the outputs stay in
/// reading order), one input-dropout mask per sequence, masks, and the choice between libtorch's fused kernel and a
/// step loop. At a masked step the states are carried over and the output is the previous output, or zeros when
/// <c>zero_output_for_mask</c> (which Bidirectional sets when returning sequences), as in Keras.
/// </summary>
internal abstract class RecurrentModule(RecurrentConfig config) : LayerModule(config.Name)
{
    protected RecurrentConfig Config { get; } = config;

    /// <summary>Whether the fused kernel computes this config (activations it implements).</summary>
    protected abstract bool FusedActivations { get; }

    /// <summary>The fused kernel over the whole (batch, steps, features) input: the output sequence and final states.</summary>
    protected abstract (Tensor Sequence, Tensor[] States) Fused(Tensor x);

    /// <summary>The input-side projection of every step at once, (batch, steps, gates·units).</summary>
    protected abstract Tensor Project(Tensor x);

    /// <summary>One step: the new states from the projected input and the previous states (states[0] is the output).
    /// <paramref name="recurrentMask"/> is the recurrent-dropout mask, or null.</summary>
    protected abstract Tensor[] Step(Tensor projected, Tensor[] states, Tensor? recurrentMask);

    protected abstract int StateCount { get; }

    public override Tensor[] Forward(Tensor[] inputs, ForwardContext context)
    {
        var x = inputs[0];
        var inputMask = context.InputMask;
        var mask = inputMask;
        if (Config.GoBackwards)
        {
            x = x.flip(1);
            mask = mask?.flip(1);
        }
        if (Config.Dropout > 0 && context.Training)
            x = Dropout.Apply(x, Config.Dropout, context, [x.shape[0], 1, x.shape[2]]);
        var recurrentDropout = Config.RecurrentDropout > 0 && context.Training;
        var (sequence, states) = FusedActivations && mask is null && !recurrentDropout ? Fused(x) : Loop(x, mask, recurrentDropout, context);
        context.OutputMask = Config.ReturnSequences ? inputMask : null;
        var first = Config.ReturnSequences ? sequence : states[0];
        return Config.ReturnState ? [first, .. states] : [first];
    }

    private (Tensor Sequence, Tensor[] States) Loop(Tensor x, Tensor? mask, bool recurrentDropout, ForwardContext context)
    {
        var (batch, steps, units) = (x.shape[0], x.shape[1], (long)Config.Units);
        var projected = Project(x);
        var states = Enumerable.Range(0, StateCount).Select(_ => zeros(batch, units, x.dtype, x.device)).ToArray();
        Tensor? recurrentMask = null;
        if (recurrentDropout)
            recurrentMask = empty(batch, units).bernoulli_(1 - Config.RecurrentDropout, context.Rng) / (1 - Config.RecurrentDropout);
        var zeroOutput = Config.ZeroOutputForMask ?? false;
        var outputs = Config.ReturnSequences ? new List<Tensor>((int)steps) : null;
        for (var t = 0; t < steps; t++)
        {
            var next = Step(projected.select(1, t), states, recurrentMask);
            Tensor output;
            if (mask is not null)
            {
                var m = mask.select(1, t).unsqueeze(1);
                output = zeroOutput ? where(m, next[0], zeros_like(next[0])) : null!;
                next = next.Zip(states, (n, s) => where(m, n, s)).ToArray();
                if (!zeroOutput) output = next[0];
            }
            else output = next[0];
            states = next;
            outputs?.Add(output);
        }
        return (outputs is null ? states[0] : stack(outputs, 1), states);
    }

    /// <summary>Keras's kernel columns [a|b|c] (as rows of its transpose) reordered to [b|a|c]: GRU's [z|r|h] to
    /// PyTorch's [r|z|n].</summary>
    protected static Tensor SwapFirstTwoGates(Tensor rows, long units) =>
        cat([rows.narrow(0, units, units), rows.narrow(0, 0, units), rows.narrow(0, 2 * units, rows.shape[0] - 2 * units)]);
}
