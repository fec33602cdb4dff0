using System.IO.Compression;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// Opens a zip entry that may inflate to at most <c>limit</c> bytes: the size the archive declares is checked before
/// inflating, and the actual size while inflating (a crafted archive can declare a small size and inflate without end).
/// </summary>
public static class BoundedEntry
{
    public static Stream Open(ZipArchiveEntry entry, long limit, string path)
    {
        if (entry.Length > limit)
            throw new SpecException(path, $"inflates to {entry.Length} bytes; at most {limit} are accepted");
        return new LimitedStream(entry.Open(), limit, path);
    }

    private sealed class LimitedStream(Stream inner, long limit, string path) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, (int)Math.Min(count, limit - _read + 1)));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer[..(int)Math.Min(buffer.Length, limit - _read + 1)]));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Count(await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, limit - _read + 1)], ct));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Count(int n)
        {
            _read += n;
            if (_read > limit) throw new SpecException(path, $"inflates past {limit} bytes, the most accepted");
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
