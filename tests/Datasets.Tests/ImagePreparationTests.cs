using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Datasets.Tests;

public class ImagePreparationTests
{
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.allclose(b, rtol: 0, atol: 1e-6);

    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    private static async Task<PreparedDataset> Prepare(string name, string preprocessing = "{}")
    {
        var cache = new DatasetCache(new DatasetLoader(new DatasetOptions()));
        return await new DatasetPreparer(cache).PrepareAsync(Json($$"""{"name": "{{name}}", "preprocessing": {{preprocessing}} }"""), default);
    }

    [Fact]
    public async Task Digits_Bundled_SplitsStratifiedAndKeepsBytes()
    {
        using var data = await Prepare("digits", """{"test_fraction": 0.2, "seed": 3}""");
        Assert.Equal(1797, data.Train.Count + data.Test.Count);
        Assert.InRange(data.Test.Count, 355, 365);
        Assert.Equal(ScalarType.Byte, data.Train.Inputs[0].dtype);
        Assert.Equal(new long[] { data.Train.Count, 8, 8 }, data.Train.Inputs[0].shape);
        using var counts = data.Test.Targets[0].bincount(null);
        Assert.All(counts.data<long>().ToArray(), c => Assert.InRange(c, 35, 38));
        Assert.Equal(new[] { 8, 8 }, data.Signature.Inputs[0].Shape);
        Assert.True(data.Signature.Targets[0].IsInteger);
        Assert.Equal(10, data.Signature.Targets[0].Classes);
    }

    [Fact]
    public async Task Iris_Bundled_HasThreeClassesOf50()
    {
        using var data = await Prepare("iris", """{"standardize": true}""");
        Assert.Equal(150, data.Train.Count + data.Test.Count);
        Assert.Equal(new[] { "setosa", "versicolor", "virginica" }, data.Preprocessing.Targets[0].ClassNames);
        Assert.Equal(4, data.Preprocessing.Inputs[0].Mean!.Length);
        using var rng = new Generator(1);
        var x = data.Train.Transform!.Apply([data.Train.Inputs[0]], training: false, rng)[0];
        // standardised per feature on train: mean 0, std 1
        Assert.True(x.mean([0]).abs().max().item<float>() < 1e-4);
        Assert.True((x.std(0, unbiased: false) - 1).abs().max().item<float>() < 1e-3);
    }

    [Fact]
    public async Task Standardize_WithFitOn_TakesStatisticsFromThePickedTrainingExamplesOnly()
    {
        var seenCount = -1;
        int[]? seenClasses = null;
        var cache = new DatasetCache(new DatasetLoader(new DatasetOptions()));
        using var data = await new DatasetPreparer(cache).PrepareAsync(
            DatasetSpec.Parse(Json("""{"name": "iris", "preprocessing": {"standardize": true}}""")), default,
            (count, classes) => { seenCount = count; seenClasses = classes; return Enumerable.Range(0, count).Where(i => classes![i] == 0).ToArray(); });

        Assert.Equal(data.Train.Count, seenCount);
        Assert.Equal(data.Train.Targets[0].to_type(ScalarType.Int32).data<int>().ToArray(), seenClasses);
        // Fitted on setosa alone: the setosa rows come out at mean 0, the whole split does not.
        using var rng = new Generator(1);
        var x = data.Train.Transform!.Apply([data.Train.Inputs[0]], training: false, rng)[0];
        using var setosa = tensor(Enumerable.Range(0, seenCount).Where(i => seenClasses![i] == 0).Select(i => (long)i).ToArray());
        Assert.True(x.index_select(0, setosa).mean([0]).abs().max().item<float>() < 1e-4);
        Assert.True(x.mean([0]).abs().max().item<float>() > 0.5);
    }

    [Fact]
    public async Task Transform_RescalesReshapesAndOneHots()
    {
        using var data = await Prepare("digits", """{"rescale": 0.0625, "reshape": [64], "one_hot_labels": true, "subset": {"train": 100, "test": 20}}""");
        Assert.Equal(100, data.Train.Count);
        Assert.Equal(20, data.Test.Count);
        var raw = data.Train.Inputs[0];
        using var rng = new Generator(1);
        var x = data.Train.Transform!.Apply([raw], training: true, rng)[0];
        Assert.Equal(new long[] { 100, 64 }, x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(raw[5, 2, 3].item<byte>() / 16f, x[5, 19].item<float>());
        Assert.Equal(new long[] { 100, 10 }, data.Train.Targets[0].shape);
        Assert.Equal(new[] { 10 }, data.Signature.Targets[0].Shape);
        Assert.False(data.Signature.Targets[0].IsInteger);
        Assert.Equal(new[] { 64 }, data.Signature.Inputs[0].Shape);
    }

    [Fact]
    public async Task Augmentation_AppliesOnlyToTrainingBatches_AndFollowsTheGenerator()
    {
        using var data = await Prepare("digits", """{"rescale": 0.0625, "augmentation": {"horizontal_flip": true, "random_crop": {"padding": 2}, "rotation": 15, "zoom": 0.1, "translation": 0.1}}""");
        var batch = data.Train.Inputs[0].narrow(0, 0, 16);
        var t = data.Train.Transform!;
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var g3 = new Generator(7);
        var plain = t.Apply([batch], training: false, g1)[0];
        var a = t.Apply([batch], training: true, g2)[0];
        var b = t.Apply([batch], training: true, g3)[0];
        Assert.True(plain.allclose(batch.to_type(ScalarType.Float32) * 0.0625));
        Assert.False(a.allclose(plain));
        Assert.True(a.allclose(b));
        Assert.Equal(plain.shape, a.shape);

        // The augmentation settings travel with the model; prediction never augments.
        var stored = FittedPreprocessing.FromJson(data.Preprocessing.ToJson());
        Assert.Equal(data.Preprocessing.Inputs[0].Augmentation, stored.Inputs[0].Augmentation);
        using var g4 = new Generator(7);
        Assert.True(stored.CreateTransform().Apply([batch], training: false, g4)[0].allclose(plain));
    }

    [Fact]
    public async Task Augmentation_FlipOnly_MirrorsWholeImages()
    {
        using var data = await Prepare("digits", """{"augmentation": {"horizontal_flip": true}}""");
        var batch = data.Train.Inputs[0].narrow(0, 0, 64);
        using var g = new Generator(1);
        var x = data.Train.Transform!.Apply([batch], training: true, g)[0];
        var f = batch.to_type(ScalarType.Float32);
        var flipped = 0;
        for (var i = 0; i < 64; i++)
        {
            bool isFlip = Same(x[i], f[i].flip(1)), isSame = Same(x[i], f[i]);
            Assert.True(isFlip || isSame, $"image {i} is neither itself nor its mirror");
            if (isFlip && !isSame) flipped++;
        }
        Assert.InRange(flipped, 12, 52);
    }

    [Fact]
    public async Task Predict_PixelArraysAndImages_BecomeModelInputs()
    {
        using var data = await Prepare("digits", """{"rescale": 0.0625, "reshape": [64]}""");
        var fp = FittedPreprocessing.FromJson(data.Preprocessing.ToJson());
        var pixels = Enumerable.Range(0, 8).Select(r => Enumerable.Range(0, 8).Select(c => (r * 8 + c) % 17).ToArray()).ToArray();

        // A PNG at twice the size, white-on-black like the dataset: decoded, converted to grey, resized to 8x8.
        using var img = new Image<Rgb24>(16, 16);
        for (var y = 0; y < 16; y++) for (var x = 0; x < 16; x++) img[x, y] = x < 8 ? new Rgb24(160, 160, 160) : new Rgb24(0, 0, 0);
        using var ms = new MemoryStream();
        img.SaveAsPng(ms);
        var b64 = Convert.ToBase64String(ms.ToArray());

        var instances = JsonSerializer.SerializeToElement(new object[] { pixels, pixels.SelectMany(p => p).ToArray(), "data:image/png;base64," + b64, new { b64 } });
        var inputs = fp.PrepareInstances(instances);

        Assert.Equal(new long[] { 4, 64 }, inputs[0].shape);
        Assert.Equal(pixels[2][3] / 16f, inputs[0][0, 19].item<float>());
        Assert.True(Same(inputs[0][0], inputs[0][1]));
        Assert.Equal(10f, inputs[0][2, 0].item<float>(), 2);   // 160 / 16
        Assert.Equal(0f, inputs[0][2, 7].item<float>(), 2);
        Assert.True(Same(inputs[0][2], inputs[0][3]));

        using var ds = fp.InstancesToDataset(instances);
        Assert.Equal(ScalarType.Byte, ds.Inputs[0].dtype);
        Assert.Equal(new long[] { 4, 8, 8 }, ds.Inputs[0].shape);
        using var g = new Generator(0);
        Assert.True(Same(ds.Transform!.Apply([ds.Inputs[0]], training: false, g)[0], inputs[0]));

        var fromBytes = fp.PrepareImages([ms.ToArray()]);
        Assert.True(Same(fromBytes[0][0], inputs[0][2]));
    }

    [Fact]
    public async Task Predict_WrongShape_NamesInstanceAndExpectedShape()
    {
        using var data = await Prepare("digits", """{"reshape": [64]}""");
        var e = Assert.Throws<SpecException>(() => data.Preprocessing.PrepareInstances(Json("[[[1, 2], [3, 4]], \"not base64!\"]")));
        Assert.Equal(2, e.Errors.Count);
        Assert.Equal("instances[0]", e.Errors[0].Path);
        Assert.Contains("[8, 8] or [64]", e.Errors[0].Message);
        Assert.Equal("instances[1]", e.Errors[1].Path);
    }

    [Fact]
    public async Task Interpret_GivesClassIndexAndName()
    {
        using var data = await Prepare("iris");
        var probs = tensor(new float[] { 0.1f, 0.7f, 0.2f, 0.8f, 0.1f, 0.1f }).reshape(2, 3);
        var p = data.Preprocessing.Interpret([probs]);
        Assert.Equal(1, p[0].Outputs[0].ClassIndex);
        Assert.Equal("versicolor", p[0].Outputs[0].ClassName);
        Assert.Equal("setosa", p[1].Outputs[0].ClassName);
        Assert.Equal(0.8f, p[1].Outputs[0].Probabilities![0]);
    }

    [Fact]
    public async Task Cache_LoadsOncePerProcessForConcurrentRuns()
    {
        using var cache = new DatasetCache(new DatasetLoader(new DatasetOptions()));
        var loads = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => cache.GetAsync("digits", default))));
        Assert.All(loads, l => Assert.Same(loads[0], l));
        Assert.Equal(1, cache.Count);
        var preparer = new DatasetPreparer(cache);
        using var a = await preparer.PrepareAsync(Json("""{"name": "digits"}"""), default);
        using var b = await preparer.PrepareAsync(Json("""{"name": "digits", "preprocessing": {"rescale": 0.5}}"""), default);
        Assert.Equal(1, cache.Count);
    }
}
