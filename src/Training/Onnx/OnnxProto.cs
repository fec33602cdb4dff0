using Google.Protobuf;

namespace TrainingService.Training.Onnx;

// The subset of onnx.proto (github.com/onnx/onnx, MIT) the exporter writes, declared by hand with their field numbers.
// Each message serializes itself through Google.Protobuf's CodedOutputStream; nested messages are length-delimited.

/// <summary>onnx.TensorProto.DataType values used here.</summary>
public enum OnnxType { Float = 1, Int64 = 7 }

/// <summary>ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8, metadata_props = 14.</summary>
public sealed record OnnxModel(OnnxGraph Graph, long IrVersion, long Opset, string ProducerName, string ProducerVersion, IReadOnlyDictionary<string, string> Metadata)
{
    public byte[] ToBytes() => Proto.Encode(w =>
    {
        w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(IrVersion);
        Proto.String(w, 2, ProducerName);
        Proto.String(w, 3, ProducerVersion);
        Proto.Message(w, 7, Graph.Write);
        // OperatorSetIdProto: domain = 1 (empty: the default ai.onnx domain), version = 2.
        Proto.Message(w, 8, o => { o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(Opset); });
        // StringStringEntryProto: key = 1, value = 2.
        foreach (var (key, value) in Metadata) Proto.Message(w, 14, e => { Proto.String(e, 1, key); Proto.String(e, 2, value); });
    });
}

/// <summary>GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.</summary>
public sealed record OnnxGraph(string Name, IReadOnlyList<OnnxNode> Nodes, IReadOnlyList<OnnxTensor> Initializers, IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs)
{
    public void Write(CodedOutputStream w)
    {
        foreach (var n in Nodes) Proto.Message(w, 1, n.Write);
        Proto.String(w, 2, Name);
        foreach (var t in Initializers) Proto.Message(w, 5, t.Write);
        foreach (var i in Inputs) Proto.Message(w, 11, i.Write);
        foreach (var o in Outputs) Proto.Message(w, 12, o.Write);
    }
}

/// <summary>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.</summary>
public sealed record OnnxNode(string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, string Name, IReadOnlyList<OnnxAttribute> Attributes)
{
    public void Write(CodedOutputStream w)
    {
        foreach (var i in Inputs) Proto.String(w, 1, i);
        foreach (var o in Outputs) Proto.String(w, 2, o);
        Proto.String(w, 3, Name);
        Proto.String(w, 4, OpType);
        foreach (var a in Attributes) Proto.Message(w, 5, a.Write);
    }
}

/// <summary>AttributeProto: name = 1, f = 2, i = 3, s = 4, floats = 7, ints = 8, strings = 9, type = 20
/// (FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7, STRINGS 8).</summary>
public sealed record OnnxAttribute(string Name, float? F = null, long? I = null, string? S = null, IReadOnlyList<long>? Ints = null, IReadOnlyList<float>? Floats = null, IReadOnlyList<string>? Strings = null)
{
    public static OnnxAttribute Int(string name, long value) => new(name, I: value);
    public static OnnxAttribute Float(string name, float value) => new(name, F: value);
    public static OnnxAttribute Text(string name, string value) => new(name, S: value);
    public static OnnxAttribute IntList(string name, params long[] values) => new(name, Ints: values);
    public static OnnxAttribute FloatList(string name, params float[] values) => new(name, Floats: values);
    public static OnnxAttribute TextList(string name, params string[] values) => new(name, Strings: values);

    public void Write(CodedOutputStream w)
    {
        Proto.String(w, 1, Name);
        int type;
        if (F is { } f) { w.WriteTag(2, WireFormat.WireType.Fixed32); w.WriteFloat(f); type = 1; }
        else if (I is { } i) { w.WriteTag(3, WireFormat.WireType.Varint); w.WriteInt64(i); type = 2; }
        else if (S is { } s) { Proto.String(w, 4, s); type = 3; }
        else if (Floats is { } fs) { foreach (var x in fs) { w.WriteTag(7, WireFormat.WireType.Fixed32); w.WriteFloat(x); } type = 6; }
        else if (Ints is { } ints) { foreach (var x in ints) { w.WriteTag(8, WireFormat.WireType.Varint); w.WriteInt64(x); } type = 7; }
        else if (Strings is { } ss) { foreach (var x in ss) Proto.String(w, 9, x); type = 8; }
        else throw new InvalidOperationException($"attribute {Name} has no value");
        w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(type);
    }
}

/// <summary>TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian values).</summary>
public sealed record OnnxTensor(string Name, OnnxType Type, long[] Dims, byte[] RawData)
{
    public static OnnxTensor Floats(string name, long[] dims, float[] values) =>
        new(name, OnnxType.Float, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static OnnxTensor Int64s(string name, long[] dims, long[] values) =>
        new(name, OnnxType.Int64, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public void Write(CodedOutputStream w)
    {
        foreach (var d in Dims) { w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(d); }
        w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt32((int)Type);
        Proto.String(w, 8, Name);
        w.WriteTag(9, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFrom(RawData));
    }
}

/// <summary>ValueInfoProto (name = 1, type = 2) with TypeProto.tensor_type = 1 → (elem_type = 1, shape = 2 →
/// dim = 1 → (dim_value = 1 | dim_param = 2)). A null dimension is symbolic.</summary>
public sealed record OnnxValueInfo(string Name, OnnxType Type, IReadOnlyList<long?> Dims, string BatchName = "batch")
{
    public void Write(CodedOutputStream w)
    {
        Proto.String(w, 1, Name);
        Proto.Message(w, 2, type => Proto.Message(type, 1, tensor =>
        {
            tensor.WriteTag(1, WireFormat.WireType.Varint); tensor.WriteInt32((int)Type);
            Proto.Message(tensor, 2, shape =>
            {
                for (var i = 0; i < Dims.Count; i++)
                {
                    var d = Dims[i];
                    Proto.Message(shape, 1, dim =>
                    {
                        if (d is { } v) { dim.WriteTag(1, WireFormat.WireType.Varint); dim.WriteInt64(v); }
                        else Proto.String(dim, 2, i == 0 ? BatchName : $"dim{i}");
                    });
                }
            });
        }));
    }
}

internal static class Proto
{
    public static byte[] Encode(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new CodedOutputStream(buffer, leaveOpen: true)) write(w);
        return buffer.ToArray();
    }

    public static void Message(CodedOutputStream w, int field, Action<CodedOutputStream> write)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(Encode(write)));
    }

    public static void String(CodedOutputStream w, int field, string value)
    {
        if (value.Length == 0) return;
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteString(value);
    }
}
