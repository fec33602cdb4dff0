using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PureHDF;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;
using TrainingService.Training.Tests.Support;

namespace TrainingService.Training.Tests.Keras;

/// <summary>
/// HDF5 files built to hurt the reader, inside a <c>.keras</c> archive and as legacy <c>.h5</c> files: links that name
/// themselves or each other (PureHDF resolves a soft link by looking its path up, which resolves it again: without
/// <see cref="Hdf5Guard"/> these tests overflow the stack and take the test host down), a group that contains itself,
/// groups nested past the limit, an external link, a header continuation that loops, and in h5py's old-style groups a
/// soft link and a B-tree that is its own child. Each is refused as a
/// <see cref="SpecException"/> at the archive entry or file, naming what it found. Files are written with PureHDF's
/// writer and, where it will not write the structure, patched byte by byte as the HDF5 specification lays it out.
/// </summary>
public class HostileHdf5Tests
{
    private static readonly JsonElement Mse = SpecFiles.Json("""{"optimizer": "sgd", "loss": "mse"}""");

    /// <summary>Input 4 → Dense(2): Keras 3 keeps its kernel and bias at <c>layers/dense/vars/0</c> and <c>1</c>.</summary>
    private static JsonNode Config() =>
        KerasExporter.Export(TrainingPlan.Parse(SpecFiles.Json("""{"input_shape": [4], "layers": [{"type": "Dense", "units": 2}]}"""), Mse, null).Model);

    /// <summary>The model's weights file with <paramref name="alter"/> applied to its <c>vars</c> group and the root.</summary>
    private static byte[] WeightsFile(Action<H5File, H5Group> alter)
    {
        var vars = new H5Group
        {
            ["0"] = new H5Dataset(new float[8], fileDims: [4, 2]),
            ["1"] = new H5Dataset(new float[2], fileDims: [2]),
        };
        var file = new H5File { ["layers"] = new H5Group { ["dense"] = new H5Group { ["vars"] = vars } } };
        alter(file, vars);
        using var ms = new MemoryStream();
        file.Write(ms);
        return ms.ToArray();
    }

    /// <summary>A .keras archive of <see cref="Config"/> with <paramref name="weights"/> as its model.weights.h5.</summary>
    private static byte[] Archive(byte[] weights)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { (KerasArchive.ConfigEntry, Encoding.UTF8.GetBytes(Config().ToJsonString())), (KerasArchive.WeightsEntry, weights) })
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(content);
            }
        }
        return output.ToArray();
    }

    private static SpecError Refusal(byte[] weights)
    {
        var e = Assert.Throws<SpecException>(() => KerasArchive.Import(Archive(weights)));
        return Assert.Single(e.Errors);
    }

    /// <summary>Where, in <paramref name="file"/>, the link message naming <paramref name="name"/> keeps its link type and
    /// its link information (HDF5 specification IV.A.2.g: version 1, flags, the type when flag 0x08 is set, creation order
    /// when 0x04, the name's character set when 0x10, the name's length in 1, 2, 4 or 8 bytes, the name, the information).</summary>
    private static (int Type, int Info) LinkMessage(byte[] file, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        for (var at = file.AsSpan().IndexOf(bytes); at >= 0; at = file.AsSpan(at + 1).IndexOf(bytes) is var n and >= 0 ? at + 1 + n : -1)
        {
            for (var start = at - 2; start >= Math.Max(0, at - 20); start--)
            {
                if (file[start] != 1) continue;
                var flags = file[start + 1];
                var p = start + 2;
                var type = (flags & 0x08) != 0 ? p++ : -1;
                if ((flags & 0x04) != 0) p += 8;
                if ((flags & 0x10) != 0) p++;
                var width = 1 << (flags & 3);
                if (p + width != at) continue;
                var length = 0L;
                for (var i = width - 1; i >= 0; i--) length = (length << 8) | file[p + i];
                if (length == bytes.Length) return (type, at + bytes.Length);
            }
        }
        throw new InvalidOperationException($"no link message names {name}");
    }

    [Fact]
    public void SoftLinkNamingItself_InTheWeightsEntry_IsRefusedNamingTheLink()
    {
        var error = Refusal(WeightsFile((_, vars) => vars["1"] = new H5SoftLink("/layers/dense/vars/1")));

        Assert.Equal($"model:{KerasArchive.WeightsEntry}", error.Path);
        Assert.Contains("soft link /layers/dense/vars/1", error.Message);
    }

    [Fact]
    public void TwoSoftLinksNamingEachOther_AreRefused()
    {
        var error = Refusal(WeightsFile((_, vars) =>
        {
            vars["1"] = new H5SoftLink("/layers/dense/vars/2");
            vars["2"] = new H5SoftLink("/layers/dense/vars/1");
        }));

        Assert.Equal($"model:{KerasArchive.WeightsEntry}", error.Path);
        Assert.Contains("soft link", error.Message);
    }

    [Fact]
    public void SoftLinkCycle_InALegacyFullModelH5_IsRefused()
    {
        // The legacy reader lists every child of model_weights, which resolves every link in it.
        var model = new H5Group { ["a"] = new H5SoftLink("/model_weights/b"), ["b"] = new H5SoftLink("/model_weights/a") };
        var file = new H5File { ["model_weights"] = model };
        file.Attributes["model_config"] = Config().ToJsonString();
        using var ms = new MemoryStream();
        file.Write(ms);

        var e = Assert.Throws<SpecException>(() => KerasHdf5.Import(ms.ToArray(), "upload.h5"));

        Assert.Equal("upload.h5", Assert.Single(e.Errors).Path);
        Assert.Contains("soft link /model_weights/", e.Errors[0].Message);
    }

    [Fact]
    public void GroupContainingItself_ThroughAHardLink_IsRefused()
    {
        // PureHDF's writer refuses a cycle, so a six-character soft link (2 + 6 bytes of link information, the size of an
        // address) is turned into a hard link to its own group: link type 0, the group's address as the information.
        var file = WeightsFile((_, vars) => vars["loop"] = new H5SoftLink("xxxxxx"));
        var loop = LinkMessage(file, "loop");
        var group = LinkMessage(file, "vars");
        file[loop.Type] = 0;
        Array.Copy(file, group.Info, file, loop.Info, 8);

        var error = Refusal(file);

        Assert.Contains("/layers/dense/vars/loop a second time", error.Message);
        Assert.Contains("cycle of hard links", error.Message);
    }

    [Fact]
    public void GroupsNestedPastTheLimit_AreRefused()
    {
        var error = Refusal(WeightsFile((root, _) =>
        {
            var deep = new H5Group();
            root["deep"] = deep;
            for (var i = 0; i < Hdf5Guard.MaxDepth + 10; i++) deep = (H5Group)(deep["g"] = new H5Group());
        }));

        Assert.Contains($"nests groups more than {Hdf5Guard.MaxDepth} deep", error.Message);
    }

    [Fact]
    public void ExternalLink_IsRefusedBeforeAnyFileIsOpened()
    {
        // A soft link's information (length, value) rewritten as an external link's (length, version 0, "file\0object\0").
        var file = WeightsFile((_, vars) => vars["ext"] = new H5SoftLink("yyyyyyyyyyy"));
        var ext = LinkMessage(file, "ext");
        file[ext.Type] = 64;
        "\0/etc/x\0/a\0"u8.CopyTo(file.AsSpan(ext.Info + 2));

        var error = Refusal(file);

        Assert.Contains("external link /layers/dense/vars/ext", error.Message);
    }

    [Fact]
    public void HeaderContinuationThatLoopsBackToItself_IsRefused()
    {
        // Written byte by byte (HDF5 specification II.B, IV.A.1.b): a version 2 superblock whose root object header holds
        // only a continuation message, to a continuation block whose only message continues into that same block.
        var file = new List<byte>();
        void Address(long a) => file.AddRange(BitConverter.GetBytes(a));
        void Continuation(long at, long length)
        {
            file.AddRange([0x10, 16, 0, 0]);   // type, size (2 bytes), flags
            Address(at);
            Address(length);
        }
        file.AddRange([0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a, 2, 8, 8, 0]);
        Address(0);      // base address
        Address(-1);     // no superblock extension
        Address(108);    // end of file
        Address(48);     // root object header
        file.AddRange([0, 0, 0, 0]);   // checksum (not read)
        file.AddRange("OHDR"u8.ToArray());
        file.AddRange([2, 0, 20]);     // version, flags (a 1-byte chunk size), chunk size
        Continuation(80, 28);
        file.AddRange([0, 0, 0, 0]);
        file.Add(0);                    // to offset 80
        file.AddRange("OCHK"u8.ToArray());
        Continuation(80, 28);
        file.AddRange([0, 0, 0, 0]);
        Assert.Equal(108, file.Count);

        var e = Assert.Throws<SpecException>(() => KerasHdf5.ImportWeights([.. file], Config().Deserialize<JsonElement>(), weightsPath: "w.h5"));

        Assert.Equal("w.h5", Assert.Single(e.Errors).Path);
        Assert.Contains("continues its header into a block already read", e.Errors[0].Message);
    }

    /// <summary>
    /// An HDF5 file as h5py writes them (superblock version 0, version 1 object headers, an old-style group: symbol
    /// table message → version 1 B-tree → symbol table node, names in a local heap), written byte by byte (HDF5
    /// specification II.A, III.A.1, III.B, III.D, IV.A.2.r). The root holds one entry named "loop": a soft link to
    /// "/loop" (cache type 2, as h5py writes soft links), or none; the B-tree may name itself as its own child.
    /// </summary>
    private static byte[] OldStyleFile(bool softLink, bool treeLoop = false)
    {
        var file = new List<byte>();
        void U64(long v) => file.AddRange(BitConverter.GetBytes(v));
        void U32(int v) => file.AddRange(BitConverter.GetBytes(v));
        void U16(int v) => file.AddRange(BitConverter.GetBytes((ushort)v));
        const long Root = 96, Heap = 136, HeapData = 168, Tree = 200, Node = 248;
        file.AddRange([0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0, 8, 8, 0]);
        U16(4);          // group leaf node K
        U16(16);         // group internal node K
        U32(0);          // consistency flags
        U64(0);          // base address
        U64(-1);         // no free-space information
        U64(296);        // end of file
        U64(-1);         // no driver information
        U64(0);          // root symbol table entry: name offset, object header, cache type 1 with B-tree and heap
        U64(Root);
        U32(1);
        U32(0);
        U64(Tree);
        U64(Heap);
        file.AddRange([1, 0]);  // root object header, version 1: one message (symbol table), 24 bytes, padded to 8
        U16(1);
        U32(1);
        U32(24);
        U32(0);
        U16(0x11);
        U16(16);
        U32(0);
        U64(Tree);
        U64(Heap);
        file.AddRange("HEAP"u8.ToArray());
        file.AddRange([0, 0, 0, 0]);
        U64(32);         // data segment size
        U64(-1);         // no free block
        U64(HeapData);
        file.AddRange(new byte[8]);                         // offset 0: ""
        file.AddRange("loop\0\0\0\0"u8.ToArray());         // offset 8: the link's name
        file.AddRange("/loop\0\0\0"u8.ToArray());           // offset 16: the soft link's value
        file.AddRange(new byte[8]);
        file.AddRange("TREE"u8.ToArray());
        file.AddRange([0, (byte)(treeLoop ? 1 : 0)]);       // group node, level
        U16(1);
        U64(-1);
        U64(-1);
        U64(0);                                             // key, child, key
        U64(treeLoop ? Tree : Node);
        U64(8);
        file.AddRange("SNOD"u8.ToArray());
        file.AddRange([1, 0]);
        U16(softLink ? 1 : 0);
        U64(8);          // the entry: name offset, no object header, cache type 2 with the value's offset
        U64(-1);
        U32(2);
        U32(0);
        U32(16);
        file.AddRange(new byte[12]);
        Assert.Equal(296, file.Count);
        return [.. file];
    }

    [Fact]
    public void OldStyleGroup_AsH5pyWritesThem_WithoutLinks_IsOpened()
    {
        using var h5 = Hdf5Guard.Open(OldStyleFile(softLink: false), "f.h5");

        Assert.Empty(h5.Read(root => root.Children().ToList()));
    }

    [Fact]
    public void OldStyleGroup_WithASoftLinkNamingItself_IsRefused()
    {
        var e = Assert.Throws<SpecException>(() => Hdf5Guard.Open(OldStyleFile(softLink: true), "f.h5"));

        Assert.Contains("soft link /loop", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void OldStyleGroup_WhoseBTreeNamesItselfAsItsChild_IsRefused()
    {
        var e = Assert.Throws<SpecException>(() => Hdf5Guard.Open(OldStyleFile(softLink: false, treeLoop: true), "f.h5"));

        Assert.Contains("reaches one of its nodes twice", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void WeightsEntryThatIsNotHdf5_IsRefusedAtTheEntry()
    {
        var error = Refusal(Encoding.UTF8.GetBytes("not an HDF5 file at all, but long enough"));

        Assert.Equal($"model:{KerasArchive.WeightsEntry}", error.Path);
        Assert.Contains("not an HDF5 file", error.Message);
    }

    [Fact]
    public void TruncatedWeightsEntry_IsRefusedAsAnError_NotAnUnexpectedException()
    {
        var file = WeightsFile((_, _) => { });
        foreach (var length in new[] { 8, 20, 48, file.Length / 2, file.Length - 9 })
        {
            var e = Assert.Throws<SpecException>(() => KerasArchive.Import(Archive(file[..length])));
            Assert.NotEmpty(e.Errors);
        }
    }

    [Fact]
    public void UntouchedWeightsFile_StillLoads()
    {
        var import = KerasArchive.Import(Archive(WeightsFile((_, _) => { })));

        Assert.NotNull(import.Weights);
    }
}
