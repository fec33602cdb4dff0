using System.Reflection;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Layers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>One config key as the reference shows it: name, type, whether required, default.</summary>
public sealed record ReferenceKey(string Name, string Type, bool Required, object? Default);

/// <summary>One entry of the reference (a layer, optimizer, loss, metric or callback) with its keys.</summary>
public sealed record ReferenceEntry(string Name, IReadOnlyList<string> Aliases, IReadOnlyList<ReferenceKey> Keys);

/// <summary>Everything the parser accepts, generated from the same registries the parser uses.</summary>
public sealed record ReferenceListing(
    IReadOnlyList<ReferenceEntry> Layers,
    IReadOnlyList<string> Activations,
    IReadOnlyList<string> Initializers,
    IReadOnlyList<ReferenceEntry> Optimizers,
    IReadOnlyList<ReferenceEntry> Losses,
    IReadOnlyList<ReferenceEntry> Metrics,
    IReadOnlyList<ReferenceEntry> Callbacks,
    IReadOnlyList<ReferenceEntry> LearningRateSchedules);

/// <summary>The reference of everything a spec may name (served at <c>/api/catalog</c>); "catalog" in the code is the
/// dataset catalog.</summary>
public static class Reference
{
    /// <summary>The whole reference, built once from the registries.</summary>
    public static ReferenceListing Listing => _listing.Value;

    private static readonly Lazy<ReferenceListing> _listing = new(() => new ReferenceListing(
        LayerEntries(),
        ActivationRegistry.Names.Order().ToArray(),
        Initializer.Names.Order().ToArray(),
        Optimizers.OptimizerRegistry.Entries.Select(e => Describe(e.Config, e.Name)).ToArray(),
        Losses.LossRegistry.Entries.Select(e => Describe(e.Config, e.Name, e.Aliases)).ToArray(),
        Metrics.MetricRegistry.Entries.Select(e => Describe(e.Config, e.Name, e.Aliases)).ToArray(),
        Callbacks.CallbackRegistry.Entries.Select(e => Describe(e.Config, e.Name)).ToArray(),
        Optimizers.ScheduleRegistry.Entries.Select(e => Describe(e.Config, e.Name)).ToArray()));

    public static ReferenceEntry Describe(Type configType, string name, IEnumerable<string>? aliases = null) =>
        new(name, (aliases ?? []).ToArray(), ConfigBinder.KeysOf(configType).Select(k =>
            new ReferenceKey(k.Name, k.TypeDescription, k.Required, Show(k.Default))).ToArray());

    public static IReadOnlyList<ReferenceEntry> LayerEntries() =>
        LayerRegistry.Types.OrderBy(LayerRegistry.NameOf).Select(t =>
            Describe(t, LayerRegistry.NameOf(t), t.GetCustomAttribute<KerasNameAttribute>()?.Aliases)).ToArray();

    private static object? Show(object? value) => value switch
    {
        Initializer i => i.Describe(),
        Regularizers.Regularizer r => r.Describe(),
        _ => value,
    };
}
