using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>
/// A Keras optimizer at work: Keras's update formulas and defaults (not PyTorch's), applied under no_grad to the
/// parameters that require gradients. Gradient clipping (clipnorm per variable, global_clipnorm, clipvalue) and the
/// learning-rate schedule are applied here, once for every optimizer. State tensors are named for checkpoints.
/// </summary>
public abstract class Optimizer
{
    private readonly List<(string Name, Tensor[] Values)> _slots = [];

    protected Optimizer(OptimizerConfig config, IReadOnlyList<(string Name, Parameter Parameter)> parameters)
    {
        Config = config;
        Parameters = parameters.Where(p => p.Parameter.requires_grad).ToArray();
        LearningRate = config.InitialLearningRate;
    }

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
        var grads = Parameters.Select(p => p.Parameter.grad).ToArray();
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
            // Keras applies decoupled weight decay (w *= 1 - wd·lr) before the update, for every optimizer that has one.
            if (Config.WeightDecay is { } wd && wd > 0) Parameters[i].Parameter.mul_(1 - wd * lr);
            Update(i, Parameters[i].Parameter, g, lr, Iterations);
        }
    }

    public void ZeroGrad()
    {
        foreach (var (_, p) in Parameters)
        {
            var g = p.grad;
            if (g is not null) { g.detach_(); g.zero_(); }
        }
    }

    /// <summary>Called once per step before any parameter is updated (Nadam's running product). <paramref name="step"/> is 1-based.</summary>
    protected virtual void BeginStep(long step) { }

    /// <summary>A state variable per parameter (Keras's <c>add_variable_from_reference</c>): zero tensors shaped like the
    /// parameters, owned by the optimizer (outside any dispose scope), named "{parameter}/{name}" in <see cref="State"/>
    /// in the order they were added.</summary>
    protected Tensor[] AddSlot(string name)
    {
        var values = Parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
        _slots.Add((name, values));
        return values;
    }

    /// <summary>Apply one update to parameter <paramref name="index"/>. <paramref name="step"/> is 1-based.</summary>
    protected abstract void Update(int index, Tensor parameter, Tensor grad, double learningRate, long step);

    /// <summary>Every state tensor (moments, accumulators), named "{parameter}/{slot}": the slots, per parameter.</summary>
    public virtual IEnumerable<(string Name, Tensor Value)> State()
    {
        for (var i = 0; i < Parameters.Count; i++)
            foreach (var (name, values) in _slots) yield return ($"{Parameters[i].Name}/{name}", values[i]);
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
}
