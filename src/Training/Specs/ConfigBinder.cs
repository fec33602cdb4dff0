using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using TrainingService.Training.Activations;

namespace TrainingService.Training.Specs;

/// <summary>
/// Binds a JSON object to a config record: each public init property is a key (snake_case of its name unless
/// <see cref="KeyAttribute"/> says otherwise), its initial value is the default, <c>required</c> properties must be
/// given. Every problem is collected with its path; unknown keys list the accepted ones.
/// </summary>
public static class ConfigBinder
{
    private static readonly ConcurrentDictionary<Type, ConfigKey[]> Keys = new();

    public static IReadOnlyList<ConfigKey> KeysOf(Type type) => Keys.GetOrAdd(type, Discover);

    public static T? Bind<T>(JsonElement obj, string path, List<SpecError> errors, IReadOnlySet<string>? reserved = null)
        where T : class, new() => (T?)Bind(typeof(T), obj, path, errors, reserved);

    public static object? Bind(Type type, JsonElement obj, string path, List<SpecError> errors, IReadOnlySet<string>? reserved = null)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, $"expected an object, got {Describe(obj)}"));
            return null;
        }
        var keys = KeysOf(type);
        var instance = Activator.CreateInstance(type)!;
        var before = errors.Count;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in obj.EnumerateObject())
        {
            if (reserved?.Contains(member.Name) == true) continue;
            var key = keys.FirstOrDefault(k => k.Name == member.Name);
            if (key is null)
            {
                errors.Add(new SpecError(Join(path, member.Name),
                    $"unknown key; accepted keys are {string.Join(", ", keys.Select(k => k.Name))}"));
                continue;
            }
            seen.Add(key.Name);
            var value = ReadValue(key, member.Value, Join(path, member.Name), errors);
            if (value is not Missing) key.Property.SetValue(instance, value);
        }
        foreach (var key in keys.Where(k => k.Required && !seen.Contains(k.Name)))
            errors.Add(new SpecError(Join(path, key.Name), $"is required ({key.TypeDescription})"));
        return errors.Count == before ? instance : null;
    }

    public static string Join(string path, string key) => string.IsNullOrEmpty(path) ? key : $"{path}.{key}";

    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"\"{e.GetString()}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.Null or JsonValueKind.Undefined => "null",
        _ => e.GetRawText(),
    };

    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var prevLower = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var nextLower = i > 0 && i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]);
                if (prevLower || nextLower) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private sealed class Missing { public static readonly Missing Value = new(); }

    private static object? ReadValue(ConfigKey key, JsonElement v, string path, List<SpecError> errors)
    {
        var t = key.Property.PropertyType;
        var underlying = Nullable.GetUnderlyingType(t) ?? t;
        if (v.ValueKind == JsonValueKind.Null)
        {
            if (key.Nullable) return null;
            errors.Add(new SpecError(path, $"must not be null ({key.TypeDescription})"));
            return Missing.Value;
        }
        object? result = Missing.Value;
        if (underlying == typeof(int) || underlying == typeof(long))
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l)
                || v.ValueKind == JsonValueKind.Number && IsWhole(v.GetDouble(), out l))
                result = underlying == typeof(int) ? (object)checked((int)Math.Clamp(l, int.MinValue, int.MaxValue)) : l;
            else errors.Add(new SpecError(path, $"expected an integer, got {Describe(v)}"));
        }
        else if (underlying == typeof(double))
        {
            if (v.ValueKind == JsonValueKind.Number) result = v.GetDouble();
            else if (v.ValueKind == JsonValueKind.Object && TryNumpyScalar(v, out var d)) result = d;
            else errors.Add(new SpecError(path, $"expected a number, got {Describe(v)}"));
        }
        else if (underlying == typeof(bool))
        {
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) result = v.GetBoolean();
            else errors.Add(new SpecError(path, $"expected true or false, got {Describe(v)}"));
        }
        else if (underlying == typeof(string))
        {
            if (v.ValueKind == JsonValueKind.String) result = v.GetString();
            else errors.Add(new SpecError(path, $"expected a string, got {Describe(v)}"));
        }
        else if (underlying == typeof(int[]))
        {
            result = ReadInts(key, v, path, errors) ?? (object)Missing.Value;
        }
        else if (underlying == typeof(JsonElement))
        {
            result = v.Clone();
        }
        else if (key.ParseMethod is not null)
        {
            object? parsed;
            try
            {
                parsed = key.ParseMethod.Invoke(null, [v, path, errors]);
            }
            catch (TargetInvocationException e) when (e.InnerException is InvalidOperationException or FormatException or KeyNotFoundException)
            {
                // A value parser that met another JSON type than it reads (System.Text.Json's accessors throw):
                // the value is wrong, so it is reported at its path rather than failing the request.
                errors.Add(new SpecError(path, $"has an unexpected JSON type: {e.InnerException.Message}"));
                parsed = null;
            }
            result = parsed ?? Missing.Value;
        }
        else throw new InvalidOperationException($"No JSON reader for {t.Name} ({key.Name}).");

        if (result is not Missing && result is not null) Check(key, result, path, errors, ref result);
        return result;
    }

    private static void Check(ConfigKey key, object value, string path, List<SpecError> errors, ref object? result)
    {
        var range = key.Property.GetCustomAttribute<RangeAttribute>();
        if (range is not null)
        {
            IEnumerable<double> numbers = value switch
            {
                int i => [i], long l => [l], double d => [d], int[] a => a.Select(x => (double)x), _ => [],
            };
            foreach (var n in numbers)
            {
                var low = range.MinExclusive ? n <= range.Min : n < range.Min;
                var high = range.MaxExclusive ? n >= range.Max : n > range.Max;
                if (!low && !high) continue;
                errors.Add(new SpecError(path, $"{Format(value)} is out of range; expected {RangeText(range)}"));
                result = Missing.Value;
                return;
            }
        }
        var oneOf = key.Property.GetCustomAttribute<OneOfAttribute>();
        if (oneOf is not null && value is string s && !oneOf.Values.Contains(s))
        {
            errors.Add(new SpecError(path, $"\"{s}\" is not accepted; expected one of {string.Join(", ", oneOf.Values)}"));
            result = Missing.Value;
        }
        if (key.Property.GetCustomAttribute<ActivationNameAttribute>() is not null && value is string fn && !ActivationRegistry.Exists(fn))
        {
            errors.Add(new SpecError(path, $"unknown activation \"{fn}\"; accepted: {string.Join(", ", ActivationRegistry.Names)}"));
            result = Missing.Value;
        }
    }

    private static string RangeText(RangeAttribute r)
    {
        var lo = $"{(r.MinExclusive ? ">" : ">=")} {Format(r.Min)}";
        return r.Max == double.MaxValue ? lo : $"{lo} and {(r.MaxExclusive ? "<" : "<=")} {Format(r.Max)}";
    }

    private static string Format(object v) => v switch
    {
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        int[] a => "[" + string.Join(", ", a) + "]",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    private static int[]? ReadInts(ConfigKey key, JsonElement v, string path, List<SpecError> errors)
    {
        var length = key.TupleLength;
        if (v.ValueKind == JsonValueKind.Number && length is not null && v.TryGetInt32(out var single))
            return Enumerable.Repeat(single, length.Value).ToArray();
        if (v.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new SpecError(path, $"expected a list of integers, got {Describe(v)}"));
            return null;
        }
        var list = new List<int>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var i)) list.Add(i);
            else if (item.ValueKind == JsonValueKind.Null) list.Add(-1);
            else
            {
                errors.Add(new SpecError(path, $"expected a list of integers, got {v.GetRawText()}"));
                return null;
            }
        }
        if (length is not null && list.Count != length)
        {
            errors.Add(new SpecError(path, $"expected {length} integers, got {list.Count}"));
            return null;
        }
        return list.ToArray();
    }

    private static bool IsWhole(double d, out long l)
    {
        l = (long)d;
        return Math.Abs(d - l) < 1e-9 && Math.Abs(d) < 9e15;
    }

    // Keras 3 may write floats as {"class_name": "__numpy__", "config": {"value": 0.0039, "dtype": "float32"}}.
    private static bool TryNumpyScalar(JsonElement v, out double value)
    {
        value = 0;
        return v.TryGetProperty("class_name", out var cn) && cn.ValueKind == JsonValueKind.String && cn.GetString() == "__numpy__"
            && v.TryGetProperty("config", out var cfg) && cfg.TryGetProperty("value", out var val)
            && val.ValueKind == JsonValueKind.Number && (value = val.GetDouble()) == value;
    }

    private static ConfigKey[] Discover(Type type)
    {
        var nullability = new NullabilityInfoContext();
        var defaults = Activator.CreateInstance(type);
        return type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetCustomAttribute<NotConfigAttribute>() is null && p.SetMethod!.IsPublic)
            .Select(p =>
            {
                var name = p.GetCustomAttribute<KeyAttribute>()?.Key ?? SnakeCase(p.Name);
                var required = p.GetCustomAttribute<RequiredMemberAttribute>() is not null;
                var nullable = Nullable.GetUnderlyingType(p.PropertyType) is not null
                    || nullability.Create(p).WriteState == NullabilityState.Nullable;
                var parse = p.PropertyType.GetMethod("ParseConfig", BindingFlags.Public | BindingFlags.Static);
                var tuple = p.GetCustomAttribute<TupleAttribute>()?.Length;
                if (tuple == 0) tuple = ((ISpatialConfig)defaults!).Rank;
                return new ConfigKey(name, p, required, nullable, required ? null : p.GetValue(defaults), parse, tuple);
            })
            .ToArray();
    }
}

/// <summary>One config key of a record: its JSON name, property, whether it is required or nullable, its default, and
/// for an integer tuple its length.</summary>
public sealed record ConfigKey(string Name, PropertyInfo Property, bool Required, bool Nullable, object? Default, MethodInfo? ParseMethod, int? TupleLength)
{
    public string TypeDescription
    {
        get
        {
            var t = System.Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
            var oneOf = Property.GetCustomAttribute<OneOfAttribute>();
            if (oneOf is not null) return "one of " + string.Join(", ", oneOf.Values);
            if (t == typeof(int[])) return TupleLength is null ? "a list of integers" : $"an integer or {TupleLength} integers";
            if (t == typeof(int) || t == typeof(long)) return "an integer";
            if (t == typeof(double)) return "a number";
            if (t == typeof(bool)) return "true or false";
            if (t == typeof(string)) return "a string";
            return t.Name.ToLowerInvariant();
        }
    }
}
