using TrainingService.Training.Engine;
using TrainingService.Training.Layers;

namespace TrainingService.Training.Tests.Engine;

public class ReferenceTests
{
    [Fact]
    public void Reference_ListsEveryRegisteredLayer_WithItsKerasKeysAndDefaults()
    {
        var listing = Reference.Listing;
        Assert.Equal(LayerRegistry.Names.Order(), listing.Layers.Select(l => l.Name).Order());
        var dense = listing.Layers.Single(l => l.Name == "Dense");
        Assert.True(dense.Keys.Single(k => k.Name == "units").Required);
        Assert.Equal("linear", dense.Keys.Single(k => k.Name == "activation").Default);
        Assert.Equal(true, dense.Keys.Single(k => k.Name == "use_bias").Default);
        var bn = listing.Layers.Single(l => l.Name == "BatchNormalization");
        Assert.Equal(0.99, bn.Keys.Single(k => k.Name == "momentum").Default);
        Assert.Equal(0.001, bn.Keys.Single(k => k.Name == "epsilon").Default);
        Assert.Contains("Convolution2D", listing.Layers.Single(l => l.Name == "Conv2D").Aliases);
    }

    [Fact]
    public void Reference_ListsOptimizersLossesMetricsCallbacks_FromTheParsersRegistries()
    {
        var listing = Reference.Listing;
        Assert.Contains(listing.Optimizers, o => o.Name == "Adam" && o.Keys.Any(k => k.Name == "epsilon" && Equals(k.Default, 1e-7)));
        Assert.Contains(listing.Optimizers, o => o.Name == "RMSprop" && o.Keys.Any(k => k.Name == "rho" && Equals(k.Default, 0.9)));
        Assert.Contains(listing.Losses, l => l.Name == "categorical_crossentropy" && l.Keys.Any(k => k.Name == "from_logits"));
        Assert.Contains(listing.Metrics, m => m.Name == "accuracy");
        Assert.Contains(listing.Callbacks, c => c.Name == "EarlyStopping" && c.Keys.Any(k => k.Name == "patience"));
        Assert.Contains("relu", listing.Activations);
        Assert.Contains("glorot_uniform", listing.Initializers);
        Assert.NotEmpty(listing.LearningRateSchedules);
    }
}
