using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainingService.Training.Optimizers;

/// <summary>
/// The trainable parameters and their gradients moved into two contiguous buffers, each parameter (and its
/// <c>.grad</c>) a view of its segment. Autograd then accumulates every gradient straight into the flat gradient
/// buffer, one <c>zero_</c> clears them all, and an element-wise update touches each buffer once per operation instead
/// of once per parameter: on a small model the per-step cost is the number of native calls, not the arithmetic.
/// The views stay after the buffers' handles are disposed (the storage is shared), so the model keeps working.
/// </summary>
internal sealed class FlatBuffers : IDisposable
{
    private FlatBuffers(Tensor values, Tensor grads, Tensor[] gradViews)
    {
        Values = values;
        Grads = grads;
        GradViews = gradViews;
    }

    /// <summary>Every parameter's values, in parameter order.</summary>
    public Tensor Values { get; }

    /// <summary>Every parameter's gradient, in parameter order.</summary>
    public Tensor Grads { get; }

    /// <summary>Each parameter's gradient: a view of its segment of <see cref="Grads"/>.</summary>
    public Tensor[] GradViews { get; }

    /// <summary>The reason the parameters cannot share one buffer, or null when they can (one dtype, one device, dense).</summary>
    public static string? CannotFlatten(IReadOnlyList<Tensor> parameters)
    {
        if (parameters.Count == 0) return "there are no trainable parameters";
        var first = parameters[0];
        foreach (var p in parameters)
        {
            if (p.dtype != first.dtype || p.device_type != first.device_type) return "the parameters differ in dtype or device";
            if (p.is_sparse) return "a parameter is sparse";
        }
        return null;
    }

    /// <summary>The offset of each parameter in a flat buffer, and the buffer's length.</summary>
    public static (long[] Offsets, long Total) Offsets(IReadOnlyList<Tensor> parameters)
    {
        var offsets = new long[parameters.Count];
        long total = 0;
        for (var i = 0; i < parameters.Count; i++)
        {
            offsets[i] = total;
            total += parameters[i].numel();
        }
        return (offsets, total);
    }

    /// <summary>Views of <paramref name="flat"/> shaped like each parameter.</summary>
    public static Tensor[] Views(Tensor flat, IReadOnlyList<Tensor> parameters, long[] offsets)
    {
        var views = new Tensor[parameters.Count];
        for (var i = 0; i < views.Length; i++)
        {
            using var segment = flat.narrow(0, offsets[i], parameters[i].numel());
            views[i] = (parameters[i].is_contiguous() ? segment.view(parameters[i].shape) : InMemoryOrder(segment, parameters[i])).DetachFromDisposeScope();
        }
        return views;
    }

    /// <summary>A view of <paramref name="segment"/> shaped like <paramref name="p"/> and laid out in its memory order (a
    /// dense parameter in another order, such as a channels_last convolution kernel: see ConvolutionLayout).</summary>
    private static Tensor InMemoryOrder(Tensor segment, Tensor p)
    {
        var order = Enumerable.Range(0, (int)p.ndim).OrderByDescending(d => p.stride(d)).ToArray();
        using var dense = segment.view(order.Select(d => p.shape[d]).ToArray());
        return dense.permute(Enumerable.Range(0, order.Length).Select(d => (long)Array.IndexOf(order, d)).ToArray());
    }

    /// <summary>Moves the parameters and the gradients a backward pass left on them into flat buffers. Returns null, and
    /// leaves everything as it was, when a parameter has no gradient (it took no part in the loss: Keras skips its
    /// update, while an update over the flat buffer would move it with its zero gradient and its moments).</summary>
    public static FlatBuffers? TryCreate(IReadOnlyList<(string Name, Parameter Parameter)> named, out string? reason)
    {
        var parameters = named.Select(p => p.Parameter).ToArray();
        reason = CannotFlatten(parameters);
        if (reason is not null) return null;
        foreach (var (name, p) in named)
        {
            using var grad = p.grad;
            if (grad is null)
            {
                reason = $"parameter {name} received no gradient";
                return null;
            }
        }
        using var _ = no_grad();
        var (offsets, total) = Offsets(parameters);
        var first = parameters[0];
        var values = empty(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
        var grads = empty(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
        var valueViews = Views(values, parameters, offsets);
        var gradViews = Views(grads, parameters, offsets);
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            valueViews[i].copy_(p);
            using (var oldGrad = p.grad!) gradViews[i].copy_(oldGrad);
            // The parameter keeps its identity (modules and the state dict hold it); only its storage changes.
            p.set_(valueViews[i]);
            p.grad = gradViews[i];
            valueViews[i].Dispose();
        }
        return new FlatBuffers(values, grads, gradViews);
    }

    public void Dispose()
    {
        foreach (var g in GradViews) g.Dispose();
        Values.Dispose();
        Grads.Dispose();
    }
}
