using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace TrainingService.Api.Tests.Fuzz;

/// <summary>
/// Deterministic mutations of valid inputs: CsCheck draws a seed and a number of edits, this applies them, so a
/// failing case is reproduced by its seed and CsCheck shrinks it towards fewer edits. Edits aim where parsers break:
/// wrong types, boundary numbers, huge and empty values, deep nesting, unknown keys, swapped subtrees, truncation.
/// </summary>
public static class Mutator
{
    private static readonly string[] Words =
        ["Dense", "Conv2D", "LSTM", "Flatten", "Embedding", "Dropout", "relu", "softmax", "adam", "mse", "accuracy", "digits", "iris",
         "csv:", "same", "valid", "channels_first", "float64", "int32", "auto", "", " ", "\u0000", "ü", "😀", "-1", "NaN", "Infinity"];

    private static readonly Func<Random, JsonNode?>[] Values =
    [
        _ => null, _ => true, _ => false, _ => 0, _ => -1, _ => 1, _ => int.MaxValue, _ => long.MinValue, _ => 2147483648L,
        _ => 1e308, _ => -1e-308, _ => 0.5, _ => 3.7, _ => "", r => Words[r.Next(Words.Length)], r => new string('x', r.Next(1, 5000)),
        _ => new JsonArray(), _ => new JsonObject(), r => new JsonArray(Enumerable.Range(0, r.Next(1, 6)).Select(i => (JsonNode?)r.Next(-3, 70)).ToArray()),
        r => Nested(r.Next(2, 120)),
    ];

    private static JsonNode Nested(int depth)
    {
        JsonNode node = 1;
        for (var i = 0; i < depth; i++) node = new JsonArray(node);
        return node;
    }

    /// <summary><paramref name="json"/> after <paramref name="edits"/> edits; sometimes also cut or spliced as text.</summary>
    public static string Json(string json, int seed, int edits)
    {
        var random = new Random(seed);
        var root = JsonNode.Parse(json)!;
        for (var i = 0; i < edits; i++) root = Edit(root, random);
        var text = root.ToJsonString();
        return random.Next(10) == 0 ? Text(text, random) : text;
    }

    private static JsonNode Edit(JsonNode root, Random random)
    {
        var nodes = All(root).ToList();
        var target = nodes[random.Next(nodes.Count)];
        switch (random.Next(6))
        {
            case 0 when target.Parent is JsonObject o:
                o.Remove(target.GetPropertyName());
                break;
            case 1 when target.Parent is JsonArray a:
                a.Remove(target);
                break;
            case 2 when target is JsonObject o:
                o[Words[random.Next(Words.Length)] + random.Next(3)] = Values[random.Next(Values.Length)](random);
                break;
            case 3 when target is JsonArray a:
                a.Add(a.Count > 0 && random.Next(2) == 0 ? a[random.Next(a.Count)]?.DeepClone() : Values[random.Next(Values.Length)](random));
                break;
            case 4 when target is JsonValue v && v.TryGetValue<double>(out var d):
                var changed = random.Next(4) switch { 0 => -d, 1 => d * 1000, 2 => d + 1, _ => Math.Floor(d / 2) };
                Replace(root, target, double.IsFinite(changed) ? changed : double.MaxValue, out root); // JSON has no infinity
                break;
            default:
                // Another subtree of the same document in this place, or a value from the table.
                var other = random.Next(3) == 0 ? nodes[random.Next(nodes.Count)].DeepClone() : Values[random.Next(Values.Length)](random);
                Replace(root, target, other, out root);
                break;
        }
        return root;
    }

    private static void Replace(JsonNode root, JsonNode target, JsonNode? value, out JsonNode newRoot)
    {
        newRoot = root;
        switch (target.Parent)
        {
            case JsonObject o:
                o[target.GetPropertyName()] = value;
                break;
            case JsonArray a:
                a[a.IndexOf(target)] = value;
                break;
            default:
                newRoot = value ?? JsonValue.Create(0);
                break;
        }
    }

    private static IEnumerable<JsonNode> All(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>().ToList())
            foreach (var n in All(child)) yield return n;
    }

    /// <summary>Text-level damage: truncation, a spliced character, a doubled slice.</summary>
    public static string Text(string text, Random random)
    {
        if (text.Length == 0) return "\"";
        var at = random.Next(text.Length);
        return random.Next(3) switch
        {
            0 => text[..at],
            1 => text.Insert(at, ((char)random.Next(0, 0x3000)).ToString()),
            _ => text.Insert(at, text[at..Math.Min(text.Length, at + random.Next(1, 200))]),
        };
    }

    /// <summary>Byte-level damage: bytes set to values text never has (UTF-8 continuation and lead bytes, control
    /// characters, 0xFF), a byte dropped or doubled.</summary>
    public static byte[] Bytes(byte[] bytes, Random random, int edits)
    {
        byte[] odd = [0x00, 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff];
        var list = bytes.ToList();
        for (var i = 0; i < edits && list.Count > 0; i++)
        {
            var at = random.Next(list.Count);
            switch (random.Next(4))
            {
                case 0: list.RemoveAt(at); break;
                case 1: list.Insert(at, list[at]); break;
                default: list[at] = odd[random.Next(odd.Length)]; break;
            }
        }
        return [.. list];
    }

    /// <summary>A CSV after line and cell edits (quotes, separators, line breaks, odd numbers, ragged rows).</summary>
    public static string Csv(string csv, int seed, int edits)
    {
        var random = new Random(seed);
        var lines = csv.TrimEnd('\n').Split('\n').ToList();
        string[] cells = ["", "\"", "\"\"", "\"a,b\"", "\"x\ny\"", "NaN", "1e999", "-0", "  ", "1,2", "ü", "\r", "big", "small", "0x10", "1.5e-320", "∞"];
        for (var i = 0; i < edits; i++)
        {
            var l = random.Next(lines.Count);
            var parts = lines[l].Split(',').ToList();
            switch (random.Next(7))
            {
                case 0 when lines.Count > 1:
                    lines.RemoveAt(l);
                    break;
                case 1:
                    lines.Insert(l, lines[random.Next(lines.Count)]);
                    break;
                case 2:
                    parts[random.Next(parts.Count)] = cells[random.Next(cells.Length)];
                    lines[l] = string.Join(',', parts);
                    break;
                case 3:
                    parts.Add(cells[random.Next(cells.Length)]);
                    lines[l] = string.Join(',', parts);
                    break;
                case 4 when parts.Count > 1:
                    parts.RemoveAt(random.Next(parts.Count));
                    lines[l] = string.Join(',', parts);
                    break;
                case 5:
                    lines[l] = Text(lines[l], random);
                    break;
                default:
                    // A copy of the header among the rows, or a header cell renamed (duplicate names included).
                    if (random.Next(2) == 0) lines.Insert(random.Next(lines.Count), lines[0]);
                    else lines[0] = string.Join(',', lines[0].Split(',').Select(c => random.Next(3) == 0 ? lines[0].Split(',')[0] : c));
                    break;
            }
        }
        return string.Join('\n', lines) + (random.Next(2) == 0 ? "\n" : "");
    }

    /// <summary>A .keras archive damaged as bytes (flips, cuts) or rebuilt with a mutated config.json, a damaged
    /// model.weights.h5, or a missing or extra entry.</summary>
    public static byte[] Archive(byte[] archive, int seed, int edits)
    {
        var random = new Random(seed);
        if (random.Next(3) == 0)
        {
            var bytes = archive.ToArray();
            for (var i = 0; i < edits; i++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            return random.Next(4) == 0 ? bytes[..random.Next(bytes.Length)] : bytes;
        }
        var entries = new Dictionary<string, byte[]>();
        using (var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read))
        {
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                entries[e.FullName] = m.ToArray();
            }
        }
        switch (random.Next(4))
        {
            case 0:
                entries.Remove(entries.Keys.ElementAt(random.Next(entries.Count)));
                break;
            case 1:
                entries["extra/" + random.Next(100) + ".json"] = Encoding.UTF8.GetBytes("{}");
                break;
            case 2 when entries.TryGetValue("model.weights.h5", out var weights):
                entries["model.weights.h5"] = Hdf5(weights, random, edits);
                break;
            default:
                entries["config.json"] = Encoding.UTF8.GetBytes(Json(Encoding.UTF8.GetString(entries["config.json"]), random.Next(), edits));
                break;
        }
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(content);
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// An HDF5 file damaged where its structure is: most edits land in the first kilobyte (superblock, root and group
    /// object headers, link messages, B-tree and heap headers of a small file), the rest anywhere; bits flipped, bytes set
    /// to 0, 0xff or a small number (a link type, a version, a size), a few bytes copied over from elsewhere in the file
    /// (addresses pointing back at a header, a node at itself), and sometimes a cut.
    /// </summary>
    public static byte[] Hdf5(byte[] file, Random random, int edits)
    {
        var bytes = file.ToArray();
        for (var i = 0; i < edits * 2; i++)
        {
            var at = random.Next(3) > 0 ? random.Next(Math.Min(bytes.Length, 1024)) : random.Next(bytes.Length);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)(random.Next(3) switch { 0 => 0, 1 => 0xff, _ => random.Next(0, 70) });
                    break;
                case 2:
                    var from = random.Next(bytes.Length);
                    var count = Math.Min(random.Next(1, 17), Math.Min(bytes.Length - from, bytes.Length - at));
                    Array.Copy(bytes, from, bytes, at, count);
                    break;
                default:
                    bytes[at] = (byte)random.Next(256);
                    break;
            }
        }
        return random.Next(8) == 0 ? bytes[..random.Next(bytes.Length)] : bytes;
    }
}
