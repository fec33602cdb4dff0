using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace TrainingService.Training.Specs;

/// <summary>
/// JSON from outside the service (request bodies, the documents inside uploaded model files), parsed so that every
/// later read of it succeeds. <see cref="JsonDocument"/> checks the structure but decodes a string's bytes only when it
/// is read, so invalid UTF-8 inside a string passed parsing and failed later as an InvalidOperationException, a 500 (the
/// fuzz suite found it in a .keras archive's metadata.json). These check the whole text is UTF-8 first and throw
/// <see cref="JsonException"/>, which every caller already turns into a 400.
/// </summary>
public static class StrictJson
{
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, JsonDocumentOptions options = default)
    {
        CheckUtf8(utf8.Span);
        return JsonDocument.Parse(utf8, options);
    }

    /// <summary>For readers that take the text token by token (<see cref="Utf8JsonReader"/> decodes a string only in
    /// GetString, as the document does).</summary>
    public static void CheckUtf8(ReadOnlySequence<byte> utf8) => CheckUtf8(utf8.IsSingleSegment ? utf8.FirstSpan : utf8.ToArray());

    private static void CheckUtf8(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8))
            throw new JsonException($"The text is not valid UTF-8 (JSON text must be UTF-8; the first bad byte is at offset {FirstInvalid(utf8)}).");
    }

    public static JsonDocument Parse(ReadOnlySequence<byte> utf8, JsonDocumentOptions options = default) =>
        Parse(utf8.IsSingleSegment ? utf8.First : utf8.ToArray(), options);

    /// <summary>Reads the stream to its end (the caller bounds it) and parses it.</summary>
    public static JsonDocument Parse(Stream utf8, JsonDocumentOptions options = default)
    {
        using var copy = new MemoryStream();
        utf8.CopyTo(copy);
        return Parse(copy.GetBuffer().AsMemory(0, (int)copy.Length), options);
    }

    /// <summary>As <see cref="Parse(Stream, JsonDocumentOptions)"/>, for streams read asynchronously (request bodies).</summary>
    public static async Task<JsonDocument> ParseAsync(Stream utf8, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        await utf8.CopyToAsync(copy, cancellationToken);
        return Parse(copy.GetBuffer().AsMemory(0, (int)copy.Length));
    }

    private static int FirstInvalid(ReadOnlySpan<byte> utf8)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(utf8, new char[utf8.Length], out var read, out _, replaceInvalidSequences: false);
        return status == OperationStatus.Done ? utf8.Length : read;
    }
}
