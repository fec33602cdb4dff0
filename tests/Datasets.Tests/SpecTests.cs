using System.Text.Json;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Datasets.Tests;

public class SpecTests
{
    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    private static SpecException Fails(string json) => Assert.Throws<SpecException>(() => DatasetSpec.Parse(Json(json)));

    [Fact]
    public void Spec_FullImageExample_Parses()
    {
        var spec = DatasetSpec.Parse(Json("""
            {"name": "fashion_mnist", "preprocessing": {"rescale": 0.00392156862745098, "reshape": [784], "standardize": false,
             "one_hot_labels": true, "subset": {"train": 1000, "test": 200}, "seed": 1,
             "augmentation": {"horizontal_flip": true, "random_crop": {"padding": 4}, "translation": 0.1, "rotation": 10, "zoom": 0.1}}}
            """));
        Assert.Equal("fashion_mnist", spec.Name);
        Assert.Equal(new[] { 784 }, spec.Preprocessing.Reshape);
        Assert.True(spec.Preprocessing.OneHotLabels);
        Assert.Equal(new SubsetSpec(1000, 200), spec.Preprocessing.Subset);
        Assert.Equal(new AugmentationSpec(true, 4, 0.1, 10, 0.1), spec.Preprocessing.Augmentation);
    }

    [Fact]
    public void Spec_UnknownKey_ListsAcceptedKeys()
    {
        var e = Fails("""{"name": "mnist", "preprocessing": {"rescal": 0.1}}""");
        var err = Assert.Single(e.Errors);
        Assert.Equal("dataset.preprocessing.rescal", err.Path);
        Assert.Contains("rescale", err.Message);
        Assert.Contains("one_hot_labels", err.Message);
    }

    [Fact]
    public void Spec_UnknownDataset_ListsCatalog()
    {
        var err = Assert.Single(Fails("""{"name": "mnits"}""").Errors);
        Assert.Equal("dataset.name", err.Path);
        Assert.Contains("fashion_mnist", err.Message);
        Assert.Contains("csv:", err.Message);
    }

    [Fact]
    public void Spec_SequenceKeysOnImages_AreRefused()
    {
        var err = Assert.Single(Fails("""{"name": "mnist", "preprocessing": {"maxlen": 100}}""").Errors);
        Assert.Equal("dataset.preprocessing.maxlen", err.Path);
        Assert.Contains("imdb", err.Message);
    }

    [Fact]
    public void Spec_ReshapeOfWrongSize_SaysWhatFits()
    {
        var err = Assert.Single(Fails("""{"name": "mnist", "preprocessing": {"reshape": [28, 27]}}""").Errors);
        Assert.Equal("dataset.preprocessing.reshape", err.Path);
        Assert.Contains("[784]", err.Message);
    }

    [Fact]
    public void Spec_ReportsEveryError()
    {
        var e = Fails("""{"name": "cifar10", "preprocessing": {"padding": "middle", "test_fraction": 2, "augmentation": {"rotation": 400}}}""");
        var paths = e.Errors.Select(x => x.Path).ToHashSet();
        Assert.Contains("dataset.preprocessing.padding", paths);
        Assert.Contains("dataset.preprocessing.test_fraction", paths);
        Assert.Contains("dataset.preprocessing.augmentation.rotation", paths);
    }

    [Fact]
    public void Spec_TabularKeysOnCatalogDataset_AreRefused()
    {
        var err = Assert.Single(Fails("""{"name": "iris", "target": "species"}""").Errors);
        Assert.Equal("dataset.target", err.Path);
    }

    [Fact]
    public void Spec_CsvUpload_Parses()
    {
        var id = new string('a', 64);
        var spec = DatasetSpec.Parse(Json($$"""
            {"name": "csv:{{id}}", "target": ["a", "b"], "features": {"x": ["c"], "y": ["d", "e"]}, "categorical": ["d"],
             "missing": {"constant": 0}, "standardize": true}
            """));
        Assert.Equal(id, spec.UploadId);
        Assert.Equal(new[] { "a", "b" }, spec.Tabular!.Targets);
        Assert.Equal(2, spec.Tabular.FeatureGroups!.Count);
        Assert.Equal("constant", spec.Tabular.Missing);
        Assert.Equal("0", spec.Tabular.MissingConstant);
        Assert.True(spec.Tabular.Standardize);
    }

    [Fact]
    public void Spec_CsvWithoutTarget_IsRefused()
    {
        var err = Assert.Single(Fails($$"""{"upload_id": "{{new string('b', 64)}}", "missing": "avg"}""").Errors, x => x.Path == "dataset.missing");
        Assert.Contains("most_frequent", err.Message);
        Assert.Contains(Fails($$"""{"upload_id": "{{new string('b', 64)}}"}""").Errors, x => x.Path == "dataset.target");
    }
}
