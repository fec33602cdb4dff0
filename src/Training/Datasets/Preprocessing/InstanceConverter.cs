using System.Runtime.InteropServices;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using TrainingService.Training.Datasets.Formats;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// Raw prediction instances → tensors in the dataset's stored form (uint8 pixels, word-index rows, encoded CSV rows),
/// ready for the same batch transform as training. Accepted per instance:
/// images: a nested array of numbers shaped like a stored example (or like the model input), a base64 string of a
/// PNG/JPEG/… image (a data: URL prefix is allowed), or {"b64": "…"}; decoded images are resized to the stored size
/// and converted to its channels. Text models: the raw text, or an array of word indices. CSV models: an object
/// keyed by column name.
/// </summary>
internal static class InstanceConverter
{
    private const int MaxImageBytes = 20 * 1024 * 1024;
    private const int MaxImageSide = 8192;

    public static Tensor[] ToRaw(FittedPreprocessing fp, JsonElement instances)
    {
        if (instances.ValueKind != JsonValueKind.Array)
            throw new SpecException("instances", "must be a JSON array of instances.");
        var items = instances.EnumerateArray().ToArray();
        if (items.Length == 0) throw new SpecException("instances", "must hold at least one instance.");
        var errors = new List<SpecError>();
        var result = new List<Tensor>();
        foreach (var f in fp.Inputs)
        {
            try
            {
                result.Add(f switch
                {
                    { Columns: { } cols } => Table(fp, f, cols, items, errors),
                    { Text: { } text } => Sequences(text, items, errors),
                    _ => Arrays(f, items, errors),
                });
            }
            catch
            {
                foreach (var t in result) t.Dispose();
                throw;
            }
        }
        if (errors.Count > 0)
        {
            foreach (var t in result) t.Dispose();
            throw new SpecException(errors);
        }
        return result.ToArray();
    }

    /// <summary>Dense instances (one buffer per input, model order) → stored-form tensors. Only plain array inputs take
    /// them: a CSV row or a text is not a tensor until its own encoding has run.</summary>
    public static Tensor[] DenseToRaw(FittedPreprocessing fp, IReadOnlyList<DenseInput> inputs, IReadOnlyList<string> paths)
    {
        if (inputs.Count != fp.Inputs.Count)
            throw new SpecException(inputs.Count == 0 ? "inputs" : paths[0], $"this model takes {fp.Inputs.Count} input(s) ({string.Join(", ", fp.Inputs.Select(i => i.Name))}); got {inputs.Count}.");
        var result = new List<Tensor>(inputs.Count);
        try
        {
            for (var k = 0; k < inputs.Count; k++)
            {
                var (f, input, path) = (fp.Inputs[k], inputs[k], paths[k]);
                if (f.Columns is not null || f.Text is not null)
                    throw new SpecException(path, $"input '{f.Name}' takes {(f.Text is not null ? "raw text" : "CSV records keyed by column")}, not a tensor; send them as instances.");
                var shape = input.Shape;
                // A model with one number per example also takes the instances as a flat list of numbers (TF Serving's example).
                if (shape.Length == 1 && f.RawShape.Aggregate(1L, (a, d) => a * d) == 1) shape = [shape[0], .. f.RawShape];
                var example = shape.Skip(1).ToArray();
                if (shape.Length == 0 || shape[0] < 1 || !(example.SequenceEqual(f.RawShape) || example.SequenceEqual(f.Shape)))
                    throw new SpecException(path, $"has shape [{string.Join(", ", shape)}]; expected [n, …] with each instance {Describe(f)}.");
                if (shape[0] != inputs[0].Shape[0])
                    throw new SpecException(path, $"has {shape[0]} instances; the first input has {inputs[0].Shape[0]}.");
                var count = (int)input.Count;
                var values = input.Values.AsSpan(0, count);
                if (f.RawDType == "uint8")
                {
                    foreach (var v in values)
                    {
                        if (v is < 0 or > 255 || v != MathF.Floor(v))
                            throw new SpecException(path, "pixel values must be integers 0-255, as the dataset stores them.");
                    }
                }
                result.Add(FromBuffer(f, input.Values, count, shape[0]));
            }
            return result.ToArray();
        }
        catch
        {
            foreach (var t in result) t.Dispose();
            throw;
        }
    }

    /// <summary>Copies the buffer into a new tensor (the buffer is the caller's, often pooled, so it is never shared).</summary>
    private static Tensor FromBuffer(FittedInput f, float[] values, int count, long n)
    {
        long[] shape = [n, .. f.RawShape.Select(d => (long)d)];
        if (shape.Aggregate(1L, (a, d) => a * d) != count)
            throw new SpecException("", $"holds {count} numbers; {n} instance(s) of {Describe(f)} take {shape.Aggregate(1L, (a, d) => a * d)}.");
        using var t = empty(shape, ScalarType.Float32);
        MemoryMarshal.AsBytes(values.AsSpan(0, count)).CopyTo(t.bytes);
        return f.RawDType switch
        {
            "uint8" => t.to_type(ScalarType.Byte),
            "int32" => t.to_type(ScalarType.Int32),
            _ => t.alias(),
        };
    }

    public static Tensor[] ImagesToRaw(FittedPreprocessing fp, IReadOnlyList<byte[]> images)
    {
        if (fp.Kind != DatasetKind.Images || fp.Inputs.Count != 1)
            throw new SpecException("instances", $"this model takes {Describe(fp.Inputs[0])}, not image files.");
        var f = fp.Inputs[0];
        var errors = new List<SpecError>();
        var values = new float[images.Count][];
        for (var i = 0; i < images.Count; i++)
        {
            try { values[i] = DecodeImage(images[i], f.RawShape); }
            catch (SpecException e) { errors.Add(new SpecError($"instances[{i}]", e.Errors[0].Message)); }
        }
        if (errors.Count > 0) throw new SpecException(errors);
        return [Stack(f, values)];
    }

    private static Tensor Table(FittedPreprocessing fp, FittedInput f, IReadOnlyList<FittedColumn> cols, JsonElement[] items, List<SpecError> errors)
    {
        var rows = new float[items.Length][];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new SpecError($"instances[{i}]", $"must be an object keyed by column: {string.Join(", ", cols.Select(c => c.Name))}."));
                rows[i] = new float[f.Shape[0]];
                continue;
            }
            rows[i] = new float[f.Shape[0]];
            var offset = 0;
            foreach (var c in cols)
            {
                string? value = null;
                if (item.TryGetProperty(c.Name, out var v))
                {
                    value = v.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.String => v.GetString(),
                        JsonValueKind.Number => v.GetRawText(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => "\u0000",
                    };
                }
                var problem = TabularEncoder.Encode(c, value, rows[i].AsSpan(offset, c.Width));
                if (problem is not null) errors.Add(new SpecError($"instances[{i}].{c.Name}", problem));
                offset += c.Width;
            }
        }
        return tensor(rows.SelectMany(r => r).ToArray()).reshape(items.Length, f.Shape[0]);
    }

    /// <summary>Longest text instance: far above any review the text datasets hold (IMDB's longest is ~14,000), low
    /// enough that one request cannot make the tokenizer build millions of words.</summary>
    public const int MaxTextChars = 100_000;

    private static Tensor Sequences(TextEncoding text, JsonElement[] items, List<SpecError> errors)
    {
        var seqs = new int[items.Length][];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            if (item.ValueKind == JsonValueKind.String && item.GetString()!.Length > MaxTextChars)
            {
                errors.Add(new SpecError($"instances[{i}]", $"A text instance may have at most {MaxTextChars} characters; got {item.GetString()!.Length}."));
                seqs[i] = [];
            }
            else if (item.ValueKind == JsonValueKind.String)
            {
                var words = ImdbTokenizer.Words(item.GetString()!, text.StripBreaks);
                seqs[i] = [ImdbTokenizer.Limit(text.StartChar, text.NumWords, text.SkipTop),
                    .. words.Select(w => text.Vocabulary.TryGetValue(w, out var idx) ? idx : text.OovChar)];
            }
            else if (item.ValueKind == JsonValueKind.Array && item.EnumerateArray().All(e => e.TryGetInt32(out var v) && v >= 0))
            {
                seqs[i] = item.EnumerateArray().Select(e => ImdbTokenizer.Limit(e.GetInt32(), text.NumWords, text.SkipTop)).ToArray();
            }
            else
            {
                errors.Add(new SpecError($"instances[{i}]", "must be the raw text (a string) or an array of word indices (non-negative integers)."));
                seqs[i] = [];
            }
        }
        var padded = SequencePadding.Pad(seqs, text.Maxlen, text.Padding == "post", text.Truncating == "post");
        return tensor(padded).reshape(items.Length, text.Maxlen);
    }

    private static Tensor Arrays(FittedInput f, JsonElement[] items, List<SpecError> errors)
    {
        var values = new float[items.Length][];
        var count = f.RawShape.Aggregate(1L, (a, b) => a * b);
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            try
            {
                if (item.ValueKind == JsonValueKind.String) values[i] = DecodeImage(Base64(item.GetString()!), f.RawShape);
                else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("b64", out var b) && b.ValueKind == JsonValueKind.String)
                    values[i] = DecodeImage(Base64(b.GetString()!), f.RawShape);
                else if (item.ValueKind == JsonValueKind.Array) values[i] = Numbers(f, item);
                else throw new SpecException("", $"must be {Describe(f)}.");
            }
            catch (SpecException e)
            {
                errors.Add(new SpecError($"instances[{i}]", e.Errors[0].Message));
                values[i] = new float[count];
            }
        }
        return Stack(f, values);
    }

    private static Tensor Stack(FittedInput f, float[][] values)
    {
        long[] shape = [values.Length, .. f.RawShape.Select(d => (long)d)];
        var flat = values.SelectMany(v => v).ToArray();
        using var t = tensor(flat).reshape(shape);
        return f.RawDType switch
        {
            "uint8" => t.to_type(ScalarType.Byte),
            "int32" => t.to_type(ScalarType.Int32),
            _ => t.to_type(ScalarType.Float32),
        };
    }

    private static float[] Numbers(FittedInput f, JsonElement item)
    {
        var shape = new List<int>();
        var values = new List<float>();
        Walk(item, 0, shape, values, f);
        // Walk checks each list against the first one seen at its depth; a number where a list was (or the reverse)
        // still leaves too few values for the shape.
        if (values.Count != shape.Aggregate(1L, (n, d) => n * d))
            throw new SpecException("", $"is ragged; expected {Describe(f)}.");
        var matches = shape.SequenceEqual(f.RawShape) || shape.SequenceEqual(f.Shape);
        if (!matches)
            throw new SpecException("", $"has shape [{string.Join(", ", shape)}]; expected {Describe(f)}.");
        if (f.RawDType == "uint8" && values.Any(v => v is < 0 or > 255 || v != MathF.Floor(v)))
            throw new SpecException("", "pixel values must be integers 0-255, as the dataset stores them.");
        return values.ToArray();
    }

    private static void Walk(JsonElement e, int depth, List<int> shape, List<float> values, FittedInput f)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (depth != shape.Count) throw new SpecException("", $"is ragged; expected {Describe(f)}.");
            values.Add(e.GetSingle());
            return;
        }
        if (e.ValueKind != JsonValueKind.Array || depth > 8) throw new SpecException("", $"must hold only numbers; expected {Describe(f)}.");
        var len = e.GetArrayLength();
        if (depth == shape.Count) shape.Add(len);
        else if (shape[depth] != len) throw new SpecException("", $"is ragged; expected {Describe(f)}.");
        foreach (var c in e.EnumerateArray()) Walk(c, depth + 1, shape, values, f);
        if (values.Count > 10_000_000) throw new SpecException("", "is too large.");
    }

    private static string Describe(FittedInput f)
    {
        var raw = $"[{string.Join(", ", f.RawShape)}]";
        var model = $"[{string.Join(", ", f.Shape)}]";
        var arrays = raw == model ? $"an array of shape {raw}" : $"an array of shape {raw} or {model}";
        return f.RawShape.Length >= 2 ? arrays + " or a base64-encoded image" : arrays;
    }

    private static byte[] Base64(string s)
    {
        var comma = s.StartsWith("data:", StringComparison.Ordinal) ? s.IndexOf(',') : -1;
        try
        {
            return Convert.FromBase64String(comma >= 0 ? s[(comma + 1)..] : s);
        }
        catch (FormatException)
        {
            throw new SpecException("", "is a string but not base64 (expected a base64-encoded PNG/JPEG image).");
        }
    }

    /// <summary>Decodes an image and converts it to the stored layout: (H,W) or (H,W,1) greyscale, (H,W,3) RGB.</summary>
    internal static float[] DecodeImage(byte[] bytes, int[] rawShape)
    {
        if (rawShape.Length is < 2 or > 3 || (rawShape.Length == 3 && rawShape[2] is not (1 or 3)))
            throw new SpecException("", $"images are not accepted for inputs of shape [{string.Join(", ", rawShape)}].");
        if (bytes.Length > MaxImageBytes) throw new SpecException("", $"image of {bytes.Length} bytes is over the limit of {MaxImageBytes}.");
        int h = rawShape[0], w = rawShape[1];
        var rgb = rawShape.Length == 3 && rawShape[2] == 3;
        try
        {
            var info = Image.Identify(bytes) ?? throw new SpecException("", "is not an image in a known format (PNG, JPEG, GIF, BMP, TGA, WebP, TIFF, PBM).");
            if (info.Width > MaxImageSide || info.Height > MaxImageSide)
                throw new SpecException("", $"image of {info.Width}x{info.Height} is larger than {MaxImageSide}x{MaxImageSide}.");
            if (rgb)
            {
                using var img = Image.Load<Rgb24>(bytes);
                if (img.Width != w || img.Height != h) img.Mutate(m => m.Resize(w, h));
                var pixels = new Rgb24[w * h];
                img.CopyPixelDataTo(pixels);
                return MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray().Select(b => (float)b).ToArray();
            }
            else
            {
                using var img = Image.Load<L8>(bytes);
                if (img.Width != w || img.Height != h) img.Mutate(m => m.Resize(w, h));
                var pixels = new L8[w * h];
                img.CopyPixelDataTo(pixels);
                return pixels.Select(p => (float)p.PackedValue).ToArray();
            }
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException)
        {
            throw new SpecException("", $"cannot be decoded as an image ({e.Message}).");
        }
    }
}
