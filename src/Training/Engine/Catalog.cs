using System.Reflection;
using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Layers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>One config key as the catalog shows it: name, type, whether required, default.</summary>
public sealed record CatalogKey(string Name, string Type, bool Required, object? Default);

/// <summary>One entry of the catalog (a layer, optimizer, loss, metric or callback) with its keys.</summary>
public sealed record CatalogEntry(string Name, IReadOnlyList<string> Aliases, IReadOnlyList<CatalogKey> Keys);

/// <summary>Everything the parser accepts, generated from the same registries the parser uses.</summary>
public sealed record CatalogListing(
    IReadOnlyList<CatalogEntry> Layers,
    IReadOnlyList<string> Activations,
    IReadOnlyList<string> Initializers,
    IReadOnlyList<CatalogEntry> Optimizers,
    IReadOnlyList<CatalogEntry> Losses,
    IReadOnlyList<CatalogEntry> Metrics,
    IReadOnlyList<CatalogEntry> Callbacks,
    IReadOnlyList<CatalogEntry> LearningRateSchedules);

public static class Catalog
{
    /// <summary>The whole catalog, built once from the registries.</summary>
    public static CatalogListing Listing => _listing.Value;

    private static readonly Lazy<CatalogListing> _listing = new(() => new CatalogListing(
        LayerEntries(),
        ActivationRegistry.Names.Order().ToArray(),
        Initializer.Names.Order().ToArray(),
        Optimizers.OptimizerRegistry.Entries.Select(e => Describe(e.Config, e.Name)).ToArray(),
        Losses.LossRegistry.Entries.Select(e => Describe(e.Config, e.Name, e.Aliases)).ToArray(),
        Metrics.MetricRegistry.Entries.Select(e => Describe(e.Config, e.Name, e.Aliases)).ToArray(),
        Callbacks.CallbackRegistry.Entries.Select(e => Describe(e.Config, e.Name)).ToArray(),
        Optimizers.ScheduleRegistry.Entries.Select(e => Describe(e.Config, e.Name)).ToArray()));

    public static CatalogEntry Describe(Type configType, string name, IEnumerable<string>? aliases = null) =>
        new(name, (aliases ?? []).ToArray(), ConfigBinder.KeysOf(configType).Select(k =>
            new CatalogKey(k.Name, k.TypeDescription, k.Required, Show(k.Default))).ToArray());

    public static IReadOnlyList<CatalogEntry> LayerEntries() =>
        LayerRegistry.Types.OrderBy(LayerRegistry.NameOf).Select(t =>
            Describe(t, LayerRegistry.NameOf(t), t.GetCustomAttribute<KerasNameAttribute>()?.Aliases)).ToArray();

    private static object? Show(object? value) => value switch
    {
        Initializer i => i.Describe(),
        Regularizers.Regularizer r => r.Describe(),
        _ => value,
    };
}
