using System.Reflection;
using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Every layer type by its Keras name (and aliases), found once from the <see cref="Layer"/> subclasses
/// in this assembly. The parser, validation, the catalog and the tests all go through it.</summary>
public static class LayerRegistry
{
    private static readonly Dictionary<string, Type> ByName = Discover();

    /// <summary>Keys of a layer object that are not layer config: the wiring and Keras's bookkeeping.</summary>
    public static readonly IReadOnlySet<string> ReservedKeys =
        new HashSet<string> { "type", "name", "inputs", "dtype" };

    public static IEnumerable<string> Names => ByName.Where(kv => NameOf(kv.Value) == kv.Key).Select(kv => kv.Key).Order();

    public static IEnumerable<Type> Types => ByName.Values.Distinct();

    public static string NameOf(Type type) => type.GetCustomAttribute<KerasNameAttribute>()?.Name ?? type.Name;

    public static Type? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Reads a layer config (<c>{"type": "Dense", "units": 10}</c>); errors carry paths under <paramref name="path"/>.</summary>
    public static Layer? Parse(JsonElement layer, string path, List<SpecError> errors, IEnumerable<string>? extraReserved = null)
    {
        if (layer.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new SpecError(path, $"expected a layer object, got {ConfigBinder.Describe(layer)}"));
            return null;
        }
        if (!layer.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            errors.Add(new SpecError($"{path}.type", $"is required: one of {string.Join(", ", Names)}"));
            return null;
        }
        var typeName = typeElement.GetString()!;
        var type = Find(typeName);
        if (type is null)
        {
            errors.Add(new SpecError($"{path}.type", $"unknown layer type \"{typeName}\"; accepted: {string.Join(", ", Names)}"));
            return null;
        }
        var before = errors.Count;
        if (layer.TryGetProperty("dtype", out var dtype) && dtype.ValueKind == JsonValueKind.String
            && dtype.GetString() is not ("float32" or "int32" or "int64"))
            errors.Add(new SpecError($"{path}.dtype", $"\"{dtype.GetString()}\" is not supported; layers compute in float32"));
        var reserved = extraReserved is null ? ReservedKeys : ReservedKeys.Concat(extraReserved).ToHashSet();
        var config = (Layer?)ConfigBinder.Bind(type, layer, path, errors, reserved);
        if (config is null) return null;
        errors.AddRange(config.Validate(path));
        if (layer.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            config = config with { Name = name.GetString()! };
        return errors.Count == before ? config : null;
    }

    private static Dictionary<string, Type> Discover()
    {
        var map = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var type in typeof(Layer).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Layer)) && !t.IsAbstract))
        {
            var attribute = type.GetCustomAttribute<KerasNameAttribute>();
            map.Add(attribute?.Name ?? type.Name, type);
            foreach (var alias in attribute?.Aliases ?? []) map.Add(alias, type);
        }
        return map;
    }
}
