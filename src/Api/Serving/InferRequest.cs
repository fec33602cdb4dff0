using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Serving;

/// <summary>One <c>$request_input</c>: its numbers are in <see cref="Data"/> (read from JSON or from the binary part).</summary>
public sealed class InferInput : IDisposable
{
    public string? Name { get; set; }
    public int[]? Shape { get; set; }
    public string? Datatype { get; set; }
    public long? BinaryDataSize { get; set; }
    public bool HasJsonData { get; set; }
    public FloatBuffer Data { get; } = new();

    public void Dispose() => Data.Dispose();
}

/// <summary>One <c>$request_output</c>: a requested output, in binary when <c>binary_data</c> is true.</summary>
public sealed record RequestedOutput(string Name, bool Binary);

/// <summary>
/// An Open Inference Protocol v2 <c>$inference_request</c>, read with <see cref="Utf8JsonReader"/> from the request
/// bytes: tensor data goes straight into pooled float buffers. With the binary tensor data extension the JSON is the
/// first <c>Inference-Header-Content-Length</c> bytes and each input marked <c>binary_data_size</c> follows, in input
/// order, little-endian and row-major. Every datatype is served as float32, which the models take.
/// </summary>
public sealed class InferRequest : IDisposable
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    public string? Id { get; private set; }
    public bool BinaryOutputs { get; private set; }
    public List<InferInput> Inputs { get; } = [];
    public List<RequestedOutput>? Outputs { get; private set; }

    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["FP32"] = 4, ["FP64"] = 8, ["FP16"] = 2, ["UINT8"] = 1, ["INT8"] = 1, ["UINT16"] = 2, ["INT16"] = 2,
        ["UINT32"] = 4, ["INT32"] = 4, ["UINT64"] = 8, ["INT64"] = 8,
    };

    /// <summary>Reads the request; the error (the v2 error string) when it is not one this server can run.</summary>
    public string? Read(ReadOnlySequence<byte> body, long? headerLength)
    {
        if (headerLength is { } h && (h < 0 || h > body.Length))
            return $"{HeaderLengthHeader} is {h}, but the body has {body.Length} bytes.";
        var json = headerLength is { } length ? body.Slice(0, length) : body;
        try
        {
            StrictJson.CheckUtf8(json);
            if (ReadJson(json) is { } error) return error;
        }
        catch (JsonException e)
        {
            return $"The request is not valid JSON: {e.Message}";
        }
        if (Inputs.Count == 0) return "The request has no inputs.";
        var binary = headerLength is { } start ? body.Slice(start) : ReadOnlySequence<byte>.Empty;
        long offset = 0;
        for (var k = 0; k < Inputs.Count; k++)
        {
            var input = Inputs[k];
            var at = $"inputs[{k}]" + (input.Name is null ? "" : $" ('{input.Name}')");
            if (input.Name is null) return $"{at}: 'name' is required.";
            if (input.Shape is null) return $"{at}: 'shape' is required.";
            if (input.Datatype is null) return $"{at}: 'datatype' is required.";
            if (!ElementSizes.TryGetValue(input.Datatype, out var size))
                return $"{at}: datatype '{input.Datatype}' is not served; the models take numbers ({string.Join(", ", ElementSizes.Keys)}).";
            // Checked as it grows: dimensions up to int.MaxValue each would overflow a long, even to a small count.
            long count = 1;
            foreach (var d in input.Shape)
            {
                count *= d;
                if (count > int.MaxValue / 8) return $"{at}: shape [{string.Join(", ", input.Shape)}] is too large.";
            }
            if (input.BinaryDataSize is { } bytes)
            {
                if (input.HasJsonData) return $"{at}: has both 'data' and binary_data_size.";
                if (bytes != count * size)
                    return $"{at}: binary_data_size is {bytes}, but shape [{string.Join(", ", input.Shape)}] of {input.Datatype} takes {count * size} bytes.";
                if (offset + bytes > binary.Length)
                    return $"{at}: its {bytes} bytes of binary data are missing (the body has {binary.Length} after the JSON header).";
                Widen(binary.Slice(offset, bytes), input.Datatype, input.Data.Append((int)count));
                offset += bytes;
            }
            else if (!input.HasJsonData) return $"{at}: has no 'data' (and no binary_data_size).";
            else if (input.Data.Count != count)
                return $"{at}: 'data' holds {input.Data.Count} values, but shape [{string.Join(", ", input.Shape)}] takes {count}.";
        }
        if (offset != binary.Length) return $"The body has {binary.Length - offset} bytes after the JSON and the inputs' binary data.";
        return null;
    }

    private string? ReadJson(ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "The request must be a JSON object.";
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "id":
                    if (reader.TokenType != JsonTokenType.String) return "'id' must be a string.";
                    Id = reader.GetString();
                    break;
                case "parameters":
                    if (reader.TokenType != JsonTokenType.StartObject) return "'parameters' must be an object.";
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var binaryOutputs = reader.ValueTextEquals("binary_data_output");
                        reader.Read();
                        if (binaryOutputs) BinaryOutputs = reader.TokenType == JsonTokenType.True;
                        reader.Skip(); // past an object or array given where a flag was expected
                    }
                    break;
                case "inputs":
                    if (reader.TokenType != JsonTokenType.StartArray) return "'inputs' must be an array.";
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        var input = new InferInput();
                        Inputs.Add(input);
                        if (ReadInput(ref reader, input, Inputs.Count - 1) is { } error) return error;
                    }
                    break;
                case "outputs":
                    if (reader.TokenType != JsonTokenType.StartArray) return "'outputs' must be an array.";
                    Outputs = [];
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        string? name = null;
                        var binary = false;
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            var key = reader.GetString();
                            reader.Read();
                            if (key == "name" && reader.TokenType == JsonTokenType.String) name = reader.GetString();
                            else if (key == "parameters" && reader.TokenType == JsonTokenType.StartObject)
                            {
                                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                                {
                                    var isBinary = reader.ValueTextEquals("binary_data");
                                    reader.Read();
                                    if (isBinary) binary = reader.TokenType == JsonTokenType.True;
                                    reader.Skip();
                                }
                            }
                            else reader.Skip();
                        }
                        if (name is null) return $"outputs[{Outputs.Count}]: 'name' is required.";
                        Outputs.Add(new RequestedOutput(name, binary));
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return null;
    }

    private static string? ReadInput(ref Utf8JsonReader reader, InferInput input, int index)
    {
        var shape = new List<int>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString();
            reader.Read();
            switch (key)
            {
                case "name" when reader.TokenType == JsonTokenType.String:
                    input.Name = reader.GetString();
                    break;
                case "datatype" when reader.TokenType == JsonTokenType.String:
                    input.Datatype = reader.GetString();
                    break;
                case "shape":
                    using (var dims = new FloatBuffer(8))
                    {
                        if (DenseJson.Read(ref reader, dims, shape) != DenseRead.Ok || shape.Count != 1)
                            return $"inputs[{index}]: 'shape' must be an array of dimensions.";
                        var values = dims.Array.AsSpan(0, dims.Count).ToArray();
                        if (values.Any(d => d < 0 || d != MathF.Floor(d) || d > int.MaxValue))
                            return $"inputs[{index}]: 'shape' must hold non-negative integers.";
                        input.Shape = values.Select(d => (int)d).ToArray();
                    }
                    break;
                case "parameters" when reader.TokenType == JsonTokenType.StartObject:
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var size = reader.ValueTextEquals("binary_data_size");
                        reader.Read();
                        if (size)
                        {
                            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var bytes) || bytes < 0)
                                return $"inputs[{index}]: 'binary_data_size' must be a non-negative integer.";
                            input.BinaryDataSize = bytes;
                        }
                        reader.Skip();
                    }
                    break;
                case "data":
                    // Row-major, nested or flat: either way the numbers arrive in order, and only their count must match.
                    var read = DenseJson.Read(ref reader, input.Data, shape);
                    if (read == DenseRead.NotNumeric)
                        return $"inputs[{index}]: 'data' must hold numbers (BOOL and BYTES tensors are not served).";
                    if (read != DenseRead.Ok) return $"inputs[{index}]: 'data' must be an array of numbers, flat or nested row-major ({read}).";
                    input.HasJsonData = true;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return null;
    }

    /// <summary>Binary tensor data (little-endian, row-major) to float32.</summary>
    private static void Widen(ReadOnlySequence<byte> source, string datatype, Span<float> into)
    {
        byte[]? rented = null;
        var bytes = source.IsSingleSegment ? source.FirstSpan : (rented = ArrayPool<byte>.Shared.Rent((int)source.Length)).AsSpan(0, (int)source.Length);
        if (rented is not null) source.CopyTo(rented);
        try
        {
            if (datatype == "FP32" && BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(into);
                return;
            }
            for (var i = 0; i < into.Length; i++)
            {
                into[i] = datatype switch
                {
                    "FP32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]),
                    "FP64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]),
                    "FP16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]),
                    "UINT8" => bytes[i],
                    "INT8" => (sbyte)bytes[i],
                    "UINT16" => BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]),
                    "INT16" => BinaryPrimitives.ReadInt16LittleEndian(bytes[(i * 2)..]),
                    "UINT32" => BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * 4)..]),
                    "INT32" => BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]),
                    "UINT64" => BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]),
                    "INT64" => BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * 8)..]),
                    _ => throw new ArgumentOutOfRangeException(nameof(datatype), datatype, null),
                };
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public void Dispose()
    {
        foreach (var input in Inputs) input.Dispose();
    }
}
