using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>Keras writes its weight-constraint keys (<c>kernel_constraint</c> …) into every config, null when unset.
/// Layers accept them so Keras's files parse, and reject a constraint that is actually set.</summary>
internal static class Constraints
{
    public static IEnumerable<SpecError> RejectSet(string path, params (string Key, JsonElement? Value)[] keys) =>
        keys.Where(k => k.Value is { ValueKind: not JsonValueKind.Null })
            .Select(k => new SpecError($"{path}.{k.Key}", "weight constraints are not supported"));
}
