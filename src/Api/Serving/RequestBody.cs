using System.Buffers;
using System.IO.Pipelines;

namespace TrainingService.Api.Serving;

/// <summary>The whole request body as the server buffered it, read in place: the JSON readers parse it without a
/// copy. Valid until <see cref="Dispose"/>, which hands the buffers back.</summary>
public readonly struct RequestBody(PipeReader reader, ReadOnlySequence<byte> bytes) : IDisposable
{
    public ReadOnlySequence<byte> Bytes { get; } = bytes;

    /// <summary>Kestrel's body size limit (30 MB unless configured) still applies: a larger body fails the read.</summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            if (result.IsCompleted || result.IsCanceled) return new RequestBody(reader, result.Buffer);
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End); // nothing consumed yet: wait for more
        }
    }

    public void Dispose() => reader.AdvanceTo(Bytes.End);
}
