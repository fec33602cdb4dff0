using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>
/// A Keras optimizer at work: Keras's update formulas and defaults (not PyTorch's), applied under no_grad to the
/// parameters that require gradients. Gradient clipping (clipnorm per variable, global_clipnorm, clipvalue) and the
/// learning-rate schedule are applied here, once for every optimizer. State tensors are named for checkpoints.
/// The optimizer owns its state tensors: whoever creates it disposes it when training ends (native memory is not
/// the garbage collector's to free: a finished run would otherwise keep about twice its parameters' memory).
/// <para>Fused: at the first step the parameters and their gradients move into flat buffers (<see cref="FlatBuffers"/>)
/// and every later update is one pass of the optimizer's element-wise formula over the whole buffer, with the slots
/// flat as well. Every update formula here is element-wise with per-step scalars, and clipping and weight decay
/// act on each parameter's view of the buffers before it, so the fused update computes the same numbers as one
/// update per parameter. It falls back to the per-parameter path (see <see cref="FusedFallbackReason"/>) when a
/// parameter got no gradient in the first step (Keras leaves such a parameter and its slots alone) or the
/// parameters do not share a dtype and device.</para>
/// </summary>
public abstract class Optimizer : IDisposable
{
    /// <summary>The index <see cref="Update"/> receives for the fused update of every parameter at once.</summary>
    protected const int All = -1;

    private readonly List<(string Name, Slot Values)> _slots = [];
    private readonly long[]? _offsets;
    private readonly long _total;
    private FlatBuffers? _flat;
    private bool _disposed;

    protected Optimizer(OptimizerConfig config, IReadOnlyList<(string Name, Parameter Parameter)> parameters)
    {
        Config = config;
        Parameters = parameters.Where(p => p.Parameter.requires_grad).ToArray();
        LearningRate = config.InitialLearningRate;
        var tensors = Parameters.Select(p => (Tensor)p.Parameter).ToArray();
        FusedFallbackReason = FlatBuffers.CannotFlatten(tensors);
        if (FusedFallbackReason is null) (_offsets, _total) = FlatBuffers.Offsets(tensors);
    }

    /// <summary>Whether the first step moves the parameters into flat buffers for one fused update per step (the
    /// default); false keeps one update per parameter (the reference the fused path is tested against).</summary>
    public bool Fuse { get; set; } = true;

    /// <summary>True once the steps run fused.</summary>
    public bool IsFused => _flat is not null;

    /// <summary>Why the steps run per parameter although <see cref="Fuse"/> is set, once that is known.</summary>
    public string? FusedFallbackReason { get; private set; }

    public OptimizerConfig Config { get; }
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters { get; }

    /// <summary>The learning rate set by callbacks (ReduceLROnPlateau); a schedule, when configured, overrides it per step.</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken so far (Keras's <c>optimizer.iterations</c>).</summary>
    public long Iterations { get; set; }

    /// <summary>The learning rate the next step uses.</summary>
    public double CurrentLearningRate => Config.Schedule?.At(Iterations) ?? LearningRate;

    /// <summary>The learning rate the last step used (the one in force at the end of an epoch).</summary>
    public double LastLearningRate => Iterations == 0 ? CurrentLearningRate : Config.Schedule?.At(Iterations - 1) ?? LearningRate;

    /// <summary>One update from the gradients the last backward pass left on the parameters.</summary>
    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var lr = CurrentLearningRate;
        BeginStep(Iterations + 1);
        Iterations++;
        if (Iterations == 1 && Fuse && FusedFallbackReason is null && _flat is null)
            _flat = FlatBuffers.TryCreate(Parameters, out var reason) is { } flat ? flat : Fallback(reason);
        if (_flat is { } fused && Config.GlobalClipnorm is null && Config.Clipnorm is null)
        {
            // The common case in the fewest native calls: no per-parameter views are touched.
            if (Config.Clipvalue is { } limit) fused.Grads.clamp_(-limit, limit);
            if (Config.WeightDecay is { } decay && decay > 0) fused.Values.mul_(1 - decay * lr);
            Update(All, fused.Values, fused.Grads, lr, Iterations);
            return;
        }
        var grads = _flat?.GradViews ?? Parameters.Select(p => p.Parameter.grad).ToArray();
        if (Config.GlobalClipnorm is { } global)
        {
            var norms = grads.Where(g => g is not null).Select(g => g!.square().sum()).ToArray();
            if (norms.Length > 0)
            {
                var total = stack(norms).sum().sqrt().item<float>();
                if (total > global) foreach (var g in grads) g?.mul_(global / total);
            }
        }
        for (var i = 0; i < Parameters.Count; i++)
        {
            var g = grads[i];
            if (g is null) continue;
            if (Config.Clipnorm is { } clip)
            {
                var norm = g.norm().item<float>();
                if (norm > clip) g.mul_(clip / norm);
            }
            if (Config.Clipvalue is { } value) g.clamp_(-value, value);
            if (_flat is not null) continue; // clipped in place in the flat buffer; updated below, all at once
            // Keras applies decoupled weight decay (w *= 1 - wd·lr) before the update, for every optimizer that has one.
            if (Config.WeightDecay is { } wd && wd > 0) Parameters[i].Parameter.mul_(1 - wd * lr);
            Update(i, Parameters[i].Parameter, g, lr, Iterations);
        }
        if (_flat is { } flatAfterClipping)
        {
            if (Config.WeightDecay is { } wd && wd > 0) flatAfterClipping.Values.mul_(1 - wd * lr);
            Update(All, flatAfterClipping.Values, flatAfterClipping.Grads, lr, Iterations);
        }
    }

    private FlatBuffers? Fallback(string? reason)
    {
        FusedFallbackReason = reason;
        return null;
    }

    public void ZeroGrad()
    {
        if (_flat is not null)
        {
            _flat.Grads.zero_();
            return;
        }
        foreach (var (_, p) in Parameters)
        {
            var g = p.grad;
            // A gradient left by an earlier fit may be a view of its flat buffer, which cannot be detached in place;
            // only a gradient with a history (one that requires grad) needs detaching.
            if (g is null) continue;
            if (g.requires_grad) g.detach_();
            g.zero_();
        }
    }

    /// <summary>Called once per step before any parameter is updated (Nadam's running product). <paramref name="step"/> is 1-based.</summary>
    protected virtual void BeginStep(long step) { }

    /// <summary>A state variable per parameter (Keras's <c>add_variable_from_reference</c>): zero tensors shaped like the
    /// parameters, owned by the optimizer (outside any dispose scope), named "{parameter}/{name}" in <see cref="State"/>
    /// in the order they were added. They are views of one flat buffer when the parameters can share one.</summary>
    protected Slot AddSlot(string name)
    {
        Slot slot;
        if (_offsets is null) slot = new Slot(Parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray(), null);
        else
        {
            var first = Parameters[0].Parameter;
            var whole = zeros(_total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
            slot = new Slot(FlatBuffers.Views(whole, Parameters.Select(p => (Tensor)p.Parameter).ToArray(), _offsets), whole);
        }
        _slots.Add((name, slot));
        return slot;
    }

    /// <summary>Apply one update to parameter <paramref name="index"/>, or to every parameter at once when it is
    /// <see cref="All"/> (then <paramref name="parameter"/> and <paramref name="grad"/> are the flat buffers, and
    /// a slot's <c>[All]</c> is its flat buffer). <paramref name="step"/> is 1-based.</summary>
    protected abstract void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step);

    /// <summary>State beyond the slots (Nadam's running product), named as in <see cref="State"/>.</summary>
    protected virtual IEnumerable<(string Name, Tensor Value)> ExtraState() => [];

    /// <summary>Every state tensor (moments, accumulators), named "{parameter}/{slot}": the slots, per parameter, then
    /// any <see cref="ExtraState"/>.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() => SlotState().Concat(ExtraState());

    private IEnumerable<(string Name, Tensor Value)> SlotState()
    {
        for (var i = 0; i < Parameters.Count; i++)
            foreach (var (name, values) in _slots) yield return ($"{Parameters[i].Name}/{name}", values[i]);
    }

    /// <summary>One optimizer state variable: a tensor per parameter, each a view of <c>[All]</c> when it is flat.</summary>
    protected sealed class Slot(Tensor[] perParameter, Tensor? whole) : IDisposable
    {
        public Tensor this[int index] => index == All
            ? whole ?? throw new InvalidOperationException("the slot is not flat")
            : perParameter[index];

        public IReadOnlyList<Tensor> PerParameter => perParameter;

        public void Dispose()
        {
            foreach (var t in perParameter) t.Dispose();
            whole?.Dispose();
        }
    }

    /// <summary>Restores what <see cref="State"/> returned (same model, same optimizer config).</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = no_grad();
        foreach (var (name, tensor) in State())
        {
            if (!state.TryGetValue(name, out var saved)) throw new InvalidDataException($"checkpoint lacks optimizer state {name}");
            tensor.copy_(saved);
        }
    }

    /// <summary>Frees every state tensor (the slots and any extra state, such as Nadam's product) and the flat buffers'
    /// handles (the parameters keep their storage).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, t) in ExtraState()) t.Dispose();
        foreach (var (_, slot) in _slots) slot.Dispose();
        _flat?.Dispose();
        GC.SuppressFinalize(this);
    }
}
