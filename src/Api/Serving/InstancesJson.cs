using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TrainingService.Api.Serving;

/// <summary>The fast path of every instances-style body (<c>{"instances": …}</c> of the service and of TF Serving,
/// TF Serving's columnar <c>{"inputs": …}</c>): the named top-level property, when it is a tensor of numbers, is read
/// straight into a float buffer. Anything else (text, CSV records, images as base64, malformed JSON) answers false and
/// the caller takes the general path, which also words the errors.</summary>
public static class InstancesJson
{
    /// <summary>True when <paramref name="property"/> exists and is a dense array of numbers (shape in
    /// <paramref name="shape"/>, at least one dimension) and the rest of the body is well-formed JSON.</summary>
    public static bool TryReadDense(ReadOnlySequence<byte> body, string property, FloatBuffer into, List<int> shape)
    {
        var name = Encoding.UTF8.GetBytes(property);
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        var found = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                if (!reader.Read()) return false;
                if (match && !found)
                {
                    if (DenseJson.Read(ref reader, into, shape) != DenseRead.Ok || shape.Count == 0) return false;
                    found = true;
                }
                else if (match) return false; // twice: let the general path decide
                else reader.Skip();
            }
            return found && reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
