using System.Buffers;

namespace TrainingService.Api.Serving;

/// <summary>A growable float array rented from the shared pool: a request's numbers are read into it and copied once
/// into a tensor, so serving allocates nothing per request that grows with the model's input.</summary>
public sealed class FloatBuffer(int capacity = 1024) : IDisposable
{
    private float[] _values = ArrayPool<float>.Shared.Rent(capacity);

    public int Count { get; private set; }

    /// <summary>The pooled array; only the first <see cref="Count"/> values are this buffer's.</summary>
    public float[] Array => _values;

    public void Add(float value)
    {
        if (Count == _values.Length) Grow(Count + 1);
        _values[Count++] = value;
    }

    /// <summary>Room for <paramref name="count"/> more values, written by the caller, then counted.</summary>
    public Span<float> Append(int count)
    {
        if (Count + count > _values.Length) Grow(Count + count);
        var span = _values.AsSpan(Count, count);
        Count += count;
        return span;
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<float>.Shared.Rent(Math.Max(needed, _values.Length * 2));
        _values.AsSpan(0, Count).CopyTo(bigger);
        ArrayPool<float>.Shared.Return(_values);
        _values = bigger;
    }

    public void Dispose()
    {
        if (_values.Length == 0) return;
        ArrayPool<float>.Shared.Return(_values);
        _values = [];
        Count = 0;
    }
}
