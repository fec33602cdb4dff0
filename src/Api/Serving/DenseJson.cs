using System.Text.Json;

namespace TrainingService.Api.Serving;

/// <summary>What <see cref="DenseJson.Read"/> found.</summary>
public enum DenseRead
{
    Ok,

    /// <summary>A string, object, boolean or null: not a tensor of numbers (the caller may take the general path).</summary>
    NotNumeric,

    /// <summary>Arrays of different lengths or depths at one level.</summary>
    Ragged,

    /// <summary>Deeper than <see cref="DenseJson.MaxDepth"/> or with no number at all.</summary>
    Unsupported,
}

/// <summary>
/// Reads a JSON number or nested arrays of numbers straight from the request bytes into a <see cref="FloatBuffer"/>,
/// row-major, recording the shape: no document, no boxed numbers. Both the service's own <c>{"instances": …}</c>
/// and the serving protocols (v2 tensor <c>data</c>, TF Serving <c>instances</c>/<c>inputs</c>) go through here.
/// </summary>
public static class DenseJson
{
    public const int MaxDepth = 8;

    /// <summary>Reads the value at the reader's current token (a number or a start of array) and leaves the reader on its
    /// last token. <paramref name="shape"/> receives the dimensions (empty for a lone number).</summary>
    public static DenseRead Read(ref Utf8JsonReader reader, FloatBuffer into, List<int> shape)
    {
        shape.Clear();
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (!reader.TryGetSingle(out var single)) return DenseRead.Unsupported;
            into.Add(single);
            return DenseRead.Ok;
        }
        if (reader.TokenType != JsonTokenType.StartArray) return DenseRead.NotNumeric;
        // The first array closed at each depth sets that dimension; every later one must match it. The depth of the
        // first number sets the rank; a number or array at any other depth is ragged.
        Span<int> dims = stackalloc int[MaxDepth];
        Span<int> counts = stackalloc int[MaxDepth];
        dims.Fill(-1);
        var rank = -1;
        var depth = 0;
        counts[0] = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Number:
                    if (rank < 0) rank = depth + 1;
                    else if (rank != depth + 1) return DenseRead.Ragged;
                    if (!reader.TryGetSingle(out var value)) return DenseRead.Unsupported;
                    into.Add(value);
                    counts[depth]++;
                    break;
                case JsonTokenType.StartArray:
                    if (rank >= 0 && depth + 1 >= rank) return DenseRead.Ragged;
                    if (depth + 1 >= MaxDepth) return DenseRead.Unsupported;
                    counts[depth]++;
                    counts[++depth] = 0;
                    break;
                case JsonTokenType.EndArray:
                    if (dims[depth] < 0) dims[depth] = counts[depth];
                    else if (dims[depth] != counts[depth]) return DenseRead.Ragged;
                    if (depth == 0)
                    {
                        if (rank < 0) return DenseRead.Unsupported;
                        for (var d = 0; d < rank; d++) shape.Add(dims[d]);
                        return DenseRead.Ok;
                    }
                    depth--;
                    break;
                default:
                    return DenseRead.NotNumeric;
            }
        }
        return DenseRead.Unsupported;
    }
}
