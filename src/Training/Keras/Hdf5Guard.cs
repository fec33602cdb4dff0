using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using PureHDF;
using PureHDF.VOL.Native;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Keras;

/// <summary>
/// Opens an uploaded HDF5 file for PureHDF only after walking its object graph ourselves, bounded, because PureHDF
/// follows what a file says without limits: it resolves a soft link by looking its path up, which resolves the link
/// again, so a link that names itself (or a cycle of them) recurses until the stack overflows, and a .NET process
/// cannot survive that. It also opens the files an external link or an external dataset names, from the server's disk.
/// Keras (h5py) and PureHDF's writer write a tree of hard links, so the walk refuses soft, external and unknown links,
/// dense link storage (links in a fractal heap, which the walk does not read), external and virtual datasets, shared
/// messages, an object reached twice (a hard-link cycle: a group that contains itself), B-tree and continuation cycles,
/// nesting deeper than <see cref="MaxDepth"/>, more than <see cref="MaxObjects"/> objects, oversized chunks and addresses
/// outside the file. PureHDF then reads through <see cref="GuardedStream"/>, which bounds the bytes it may read and
/// stops any other recursion (nested datatypes, B-trees of chunks) while stack remains, as an ordinary exception.
/// </summary>
public static class Hdf5Guard
{
    public const int MaxDepth = 64;
    public const int MaxObjects = 100_000;
    public const long MaxChunkBytes = 64L * 1024 * 1024;

    /// <summary>Walks <paramref name="file"/>, then opens it for PureHDF; throws <see cref="SpecException"/> at
    /// <paramref name="path"/> (the file, or the archive entry) naming what was refused.</summary>
    public static GuardedFile Open(byte[] file, string path)
    {
        new Walker(file, path).Run();
        var stream = new GuardedStream(file);
        return new GuardedFile(H5File.Open(stream), stream, path);
    }

    /// <summary>A file PureHDF reads through a <see cref="GuardedStream"/>; <see cref="Check"/> turns a tripped guard into
    /// the refusal (PureHDF may have swallowed the exception, or wrapped it).</summary>
    public sealed class GuardedFile(NativeFile file, GuardedStream stream, string path) : IDisposable
    {
        /// <summary><paramref name="read"/> over the file; when the guard tripped, its refusal replaces whatever PureHDF
        /// made of the exception (it swallows some, and wraps others).</summary>
        public T Read<T>(Func<IH5Group, T> read)
        {
            T result;
            try { result = read(file); }
            catch (Exception) when (stream.Refusal is not null) { throw new SpecException(path, stream.Refusal); }
            if (stream.Refusal is { } why) throw new SpecException(path, why);
            return result;
        }

        public void Dispose() => file.Dispose();
    }

    /// <summary>
    /// The file's bytes as PureHDF reads them: every read costs at least 16 bytes of a budget of 64 times the file plus
    /// 256 MiB (a legitimate file is read a few times over as paths are looked up; a loop of structures is not bounded
    /// otherwise), and every read first checks that stack remains, so that a recursion PureHDF makes while reading is
    /// stopped by an exception rather than by the stack running out.
    /// </summary>
    public sealed class GuardedStream(byte[] file) : MemoryStream(file, writable: false)
    {
        private long _budget = 64L * file.Length + 256L * 1024 * 1024;

        public string? Refusal { get; private set; }

        private void Spend(int count)
        {
            if (Refusal is null && !RuntimeHelpers.TryEnsureSufficientExecutionStack())
                Refusal = "is refused: reading it recursed too deeply (its structures nest or loop)";
            _budget -= Math.Max(count, 16);
            if (Refusal is null && _budget < 0)
                Refusal = "is refused: reading it took more than 64 times its size (its structures loop)";
            if (Refusal is not null) throw new InvalidDataException(Refusal);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Spend(count);
            return base.Read(buffer, offset, count);
        }

        public override int Read(Span<byte> buffer)
        {
            Spend(buffer.Length);
            return base.Read(buffer);
        }

        public override int ReadByte()
        {
            Spend(1);
            return base.ReadByte();
        }
    }

    /// <summary>The walk: the superblock's root, then every object header, its continuation blocks and its links (link
    /// messages, or a symbol table's B-tree of symbol nodes), each address checked against the file.</summary>
    private sealed class Walker(byte[] file, string path)
    {
        private int _offsetSize;
        private int _lengthSize;
        private long _base;
        private readonly HashSet<long> _objects = [];
        private readonly HashSet<long> _blocks = [];

        public void Run()
        {
            Need(0, 16);
            if (!KerasHdf5.IsHdf5(file)) Refuse("is not an HDF5 file");
            var version = file[8];
            if (version is 0 or 1)
            {
                Sizes(file[13], file[14]);
                var at = version == 0 ? 24 : 28;
                _base = (long)Offset(at);
                at += 4 * _offsetSize;   // base, free space, end of file, driver information
                Entry(at, 0, "/");
            }
            else if (version is 2 or 3)
            {
                Sizes(file[9], file[10]);
                _base = (long)Offset(12);
                Object(Offset(12 + 3 * _offsetSize), "/", 0);
            }
            else Refuse($"has superblock version {version}; versions 0 to 3 are read");
        }

        private void Sizes(int offsets, int lengths)
        {
            if (offsets is not (2 or 4 or 8) || lengths is not (2 or 4 or 8)) Refuse($"declares {offsets}-byte addresses and {lengths}-byte lengths; 2, 4 or 8 are read");
            _offsetSize = offsets;
            _lengthSize = lengths;
        }

        /// <summary>A symbol table entry: an object, or (cache type 2) a soft link.</summary>
        private void Entry(int at, int depth, string name)
        {
            Need(at, 2 * _offsetSize + 24);
            var header = Offset(at + _offsetSize);
            var cache = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 2 * _offsetSize));
            var scratch = at + 2 * _offsetSize + 8;
            if (cache == 2) Refuse($"holds a soft link {name}; Keras writes only hard links, soft ones are not followed");
            (ulong, ulong)? table = cache == 1 ? (Offset(scratch), Offset(scratch + _offsetSize)) : null;
            Object(header, name, depth, table);
        }

        private void Object(ulong address, string name, int depth, (ulong BTree, ulong Heap)? scratchTable = null)
        {
            if (depth > MaxDepth) Refuse($"nests groups more than {MaxDepth} deep (at {name})");
            var at = Position(address, name);
            if (!_objects.Add(at)) Refuse($"reaches the object at {name} a second time: a cycle of hard links (a group inside itself) or a shared object; Keras writes a tree");
            if (_objects.Count > MaxObjects) Refuse($"holds more than {MaxObjects} objects");
            var links = new List<(string Name, ulong Address)>();
            var tables = new HashSet<(ulong, ulong)>();
            if (scratchTable is { } s) tables.Add(s);
            foreach (var (type, flags, data) in Messages(at, name))
            {
                if ((flags & 0x02) != 0) Refuse($"{name} holds a shared message (type {type}); they are not read");
                switch (type)
                {
                    case 0x02: LinkInfo(data, name); break;
                    case 0x06: links.Add(Link(data, name)); break;
                    case 0x07: Refuse($"{name} keeps its data in external files; they are not read"); break;
                    case 0x08: Layout(data, name); break;
                    case 0x11:
                        Need(data.Start, 2 * _offsetSize, data.End);
                        tables.Add((Offset(data.Start), Offset(data.Start + _offsetSize)));
                        break;
                }
            }
            if (tables.Count > 1) Refuse($"{name} has two symbol tables that disagree");
            foreach (var (btree, heap) in tables) GroupTree(btree, (long)heap == -1 ? -1 : Position(heap, name), depth, name, -1);
            foreach (var (child, target) in links) Object(target, child, depth + 1);
        }

        /// <summary>Every message of the object header at <paramref name="at"/> (version 1 or 2) and its continuation blocks.</summary>
        private List<(int Type, int Flags, (int Start, int End) Data)> Messages(int at, string name)
        {
            var messages = new List<(int, int, (int, int))>();
            var blocks = new Queue<(int Start, int End)>();
            int version;
            var creationOrder = false;
            if (file.Length > at && file[at] == 1)
            {
                version = 1;
                Need(at, 16);
                var size = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
                blocks.Enqueue(Block(at + 16, size, name));
            }
            else
            {
                Need(at, 6);
                if (!file.AsSpan(at, 4).SequenceEqual("OHDR"u8)) Refuse($"{name} points to no object header");
                version = 2;
                var flags = file[at + 5];
                creationOrder = (flags & 0x04) != 0;
                var p = at + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
                var width = 1 << (flags & 3);
                Need(p, width);
                blocks.Enqueue(Block(p + width, Unsigned(p, width), name));
            }
            var headerSize = version == 1 ? 8 : 4 + (creationOrder ? 2 : 0);
            var count = 0;
            while (blocks.TryDequeue(out var block))
            {
                if (++count > 256) Refuse($"{name} continues its header in more than 256 blocks");
                for (var p = block.Start; block.End - p >= headerSize;)
                {
                    var type = version == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(p)) : file[p];
                    var size = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(p + (version == 1 ? 2 : 1)));
                    var flags = file[p + (version == 1 ? 4 : 3)];
                    var data = (Start: p + headerSize, End: p + headerSize + size);
                    if (data.End > block.End) Refuse($"{name} has a header message past the end of its block");
                    p = data.End;
                    if (messages.Count > 65_536) Refuse($"{name} has more than 65536 header messages");
                    if (type == 0x10)
                    {
                        Need(data.Start, _offsetSize + _lengthSize, data.End);
                        var start = Position(Offset(data.Start), name);
                        var length = Unsigned(data.Start + _offsetSize, _lengthSize);
                        if (!_blocks.Add(start)) Refuse($"{name} continues its header into a block already read (a loop)");
                        if (version == 1) blocks.Enqueue(Block(start, length, name));
                        else
                        {
                            Need(start, 4);
                            if (!file.AsSpan(start, 4).SequenceEqual("OCHK"u8)) Refuse($"{name} continues its header where there is no continuation block");
                            var b = Block(start, length, name);
                            blocks.Enqueue((b.Start + 4, b.End - 4));
                        }
                    }
                    else messages.Add((type, flags, data));
                }
            }
            return messages;
        }

        private (int Start, int End) Block(int start, ulong length, string name)
        {
            if (length > (ulong)(file.Length - start)) Refuse($"{name} has a header block past the end of the file");
            return (start, start + (int)length);
        }

        private void LinkInfo((int Start, int End) data, string name)
        {
            Need(data.Start, 2, data.End);
            var p = data.Start + 2 + ((file[data.Start + 1] & 0x01) != 0 ? 8 : 0);
            Need(p, _offsetSize, data.End);
            if (!Undefined(p)) Refuse($"{name} keeps its links in dense storage (a fractal heap), which is not read; Keras writes compact groups");
        }

        private (string Name, ulong Address) Link((int Start, int End) data, string group)
        {
            Need(data.Start, 2, data.End);
            var flags = file[data.Start + 1];
            var p = data.Start + 2;
            var type = 0;
            if ((flags & 0x08) != 0) type = file[p++];
            if ((flags & 0x04) != 0) p += 8;
            if ((flags & 0x10) != 0) p++;
            var width = 1 << (flags & 3);
            Need(p, width, data.End);
            var length = Unsigned(p, width);
            p += width;
            if (length > (ulong)(data.End - p)) Refuse($"{group} has a link whose name runs past its message");
            var name = Join(group, Encoding.UTF8.GetString(file, p, (int)length));
            p += (int)length;
            switch (type)
            {
                case 0:
                    Need(p, _offsetSize, data.End);
                    return (name, Offset(p));
                case 1: Refuse($"holds a soft link {name}; Keras writes only hard links, soft ones are not followed"); break;
                case 64: Refuse($"holds an external link {name} (to another file); it is not followed"); break;
                default: Refuse($"holds a link {name} of type {type}; only hard links are read"); break;
            }
            return default;
        }

        /// <summary>A dataset's layout: compact and contiguous pass; a chunk is bounded in size; virtual is refused.</summary>
        private void Layout((int Start, int End) data, string name)
        {
            Need(data.Start, 3, data.End);
            var version = file[data.Start];
            int layoutClass, rank, p, width;
            if (version is 1 or 2)
            {
                rank = file[data.Start + 1];
                layoutClass = file[data.Start + 2];
                p = data.Start + 8 + (layoutClass != 0 ? _offsetSize : 0);
                width = 4;
            }
            else if (version == 3)
            {
                layoutClass = file[data.Start + 1];
                if (layoutClass != 2) return;
                rank = file[data.Start + 2];
                p = data.Start + 3 + _offsetSize;
                width = 4;
            }
            else if (version == 4)
            {
                layoutClass = file[data.Start + 1];
                if (layoutClass == 3) Refuse($"{name} is a virtual dataset (made of other files' data); it is not read");
                if (layoutClass != 2) return;
                Need(data.Start, 5, data.End);
                rank = file[data.Start + 3];
                width = file[data.Start + 4];
                if (width is < 1 or > 8) Refuse($"{name} declares {width}-byte chunk dimensions");
                p = data.Start + 5;
            }
            else
            {
                Refuse($"{name} has data layout version {version}; versions 1 to 4 are read");
                return;
            }
            if (layoutClass != 2) return;
            Need(p, rank * width, data.End);
            var bytes = 1.0;
            for (var i = 0; i < rank; i++) bytes *= Unsigned(p + i * width, width);
            if (bytes > MaxChunkBytes) Refuse($"{name} declares chunks of {bytes} bytes; at most {MaxChunkBytes} are read");
        }

        /// <summary>A group's version 1 B-tree: inner nodes one level up from their children, symbol nodes at the leaves,
        /// every node read once.</summary>
        private void GroupTree(ulong address, long heap, int depth, string name, int level)
        {
            var at = Position(address, name);
            if (!_blocks.Add(at)) Refuse($"{name}'s symbol table reaches one of its nodes twice (a loop)");
            Need(at, 8 + 2 * _offsetSize);
            if (!file.AsSpan(at, 4).SequenceEqual("TREE"u8) || file[at + 4] != 0) Refuse($"{name} points to no group B-tree");
            var nodeLevel = file[at + 5];
            if (level >= 0 && nodeLevel != level) Refuse($"{name}'s symbol table has a node at the wrong level");
            if (nodeLevel > 32) Refuse($"{name}'s symbol table is more than 32 levels deep");
            var entries = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 6));
            var p = at + 8 + 2 * _offsetSize;
            Need(p, _lengthSize + entries * (_offsetSize + _lengthSize));
            for (var i = 0; i < entries; i++)
            {
                var child = Offset(p + _lengthSize + i * (_offsetSize + _lengthSize));
                if (nodeLevel > 0) GroupTree(child, heap, depth, name, nodeLevel - 1);
                else SymbolNode(child, heap, depth, name);
            }
        }

        private void SymbolNode(ulong address, long heap, int depth, string name)
        {
            var at = Position(address, name);
            if (!_blocks.Add(at)) Refuse($"{name}'s symbol table reaches one of its nodes twice (a loop)");
            Need(at, 8);
            if (!file.AsSpan(at, 4).SequenceEqual("SNOD"u8)) Refuse($"{name} points to no symbol table node");
            var count = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 6));
            var size = 2 * _offsetSize + 24;
            for (var i = 0; i < count; i++)
            {
                var entry = at + 8 + i * size;
                Need(entry, size);
                Entry(entry, depth + 1, Join(name, HeapName(heap, Offset(entry))));
            }
        }

        /// <summary>A link's name from the group's local heap, for messages only ("?" when the heap does not give one).</summary>
        private string HeapName(long heap, ulong offset)
        {
            if (heap < 0 || heap + 8 + 2 * _lengthSize + _offsetSize > file.Length || !file.AsSpan((int)heap, 4).SequenceEqual("HEAP"u8)) return "?";
            var data = Offset((int)heap + 8 + 2 * _lengthSize);
            var start = (long)data + _base + (long)Math.Min(offset, int.MaxValue);
            if ((long)data == -1 || start < 0 || start >= file.Length) return "?";
            var end = Array.IndexOf(file, (byte)0, (int)start, (int)Math.Min(256, file.Length - start));
            return Encoding.UTF8.GetString(file, (int)start, (end < 0 ? (int)Math.Min(256, file.Length - start) : end) - (int)start);
        }

        private static string Join(string group, string name) => group == "/" ? "/" + name : group + "/" + name;

        private int Position(ulong address, string name)
        {
            var at = (long)address + _base;
            if ((long)address < 0 || at < 0 || at >= file.Length) Refuse($"{name} points outside the file");
            return (int)at;
        }

        private ulong Offset(int at) => Unsigned(at, _offsetSize) is var v && Undefined(at) ? ulong.MaxValue : v;

        private bool Undefined(int at) => file.AsSpan(at, _offsetSize).IndexOfAnyExcept((byte)0xff) < 0;

        private ulong Unsigned(int at, int width)
        {
            Need(at, width);
            ulong v = 0;
            for (var i = width - 1; i >= 0; i--) v = (v << 8) | file[at + i];
            return v;
        }

        private void Need(int at, int count, int end = -1)
        {
            if (end < 0) end = file.Length;
            if (at < 0 || count < 0 || at > end - count) Refuse("is damaged: a structure runs past its end or the end of the file");
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        private void Refuse(string why) => throw new SpecException(path, why);
    }
}
