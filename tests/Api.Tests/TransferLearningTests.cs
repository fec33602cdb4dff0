using System.Net;
using System.Text;
using System.Text.Json;
using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Api.Tests;

/// <summary>The two-run transfer-learning recipe through the real service: a CNN trained, then a second run that
/// starts from its weights (<c>initial_weights</c>) with the backbone frozen.</summary>
public sealed class TransferLearningTests() : ServiceTests(null)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static string Cnn(int epochs, bool frozen, string? initialWeights = null, int filters = 4, int classes = 10) => $$$"""
        {
          "dataset": {"name": "digits", "preprocessing": {"rescale": 0.0625, "reshape": [8, 8, 1], "test_fraction": 0.2, "seed": 1}},
          "model": {"input_shape": [8, 8, 1],
                    "layers": [{"type": "Conv2D", "name": "conv", "filters": {{{filters}}}, "kernel_size": 3, "activation": "relu", "trainable": {{{(frozen ? "false" : "true")}}} },
                               {"type": "BatchNormalization", "name": "bn", "trainable": {{{(frozen ? "false" : "true")}}} },
                               {"type": "Flatten", "name": "flat"},
                               {"type": "Dense", "name": "head", "units": {{{classes}}}, "activation": "softmax"}]},
          "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
          "fit": {"epochs": {{{epochs}}}, "batch_size": 64, "seed": 5}
          {{{(initialWeights is null ? "" : $", \"initial_weights\": {initialWeights}")}}}
        }
        """;

    private static async Task<Dictionary<string, Tensor>> WeightsAsync(HttpClient client, Guid id)
    {
        var bytes = await client.GetByteArrayAsync($"/api/runs/{id}/weights");
        using var ms = new MemoryStream(bytes);
        return TensorArchive.Read(ms);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.data<float>().ToArray().SequenceEqual(b.data<float>().ToArray());

    [Fact]
    public async Task FrozenBackbone_StartedFromAnotherRun_StaysBitForBit_WhileTheHeadTrains()
    {
        var client = _factory.CreateClient();
        var first = await client.WaitForEndAsync((await client.SubmitAsync(Cnn(epochs: 2, frozen: false))).Id(), Patience);
        Assert.Equal("succeeded", first.Status());

        var submitted = await client.SubmitAsync(Cnn(epochs: 2, frozen: true, $$"""{"run": "{{first.Id()}}", "kind": "final"}"""));
        var summary = submitted.GetProperty("summary");
        const long conv = 3 * 3 * 1 * 4 + 4, bn = 4 * 4, head = 6 * 6 * 4 * 10 + 10;
        Assert.Equal(head, summary.GetProperty("trainable_parameters").GetInt64());
        Assert.Equal(conv + bn, summary.GetProperty("non_trainable_parameters").GetInt64());
        Assert.Contains(submitted.GetProperty("spec").GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("conv, bn, head", StringComparison.Ordinal));
        var second = await client.WaitForEndAsync(submitted.Id(), Patience);
        Assert.Equal("succeeded", second.Status());

        var before = await WeightsAsync(client, first.Id());
        var after = await WeightsAsync(client, second.Id());
        foreach (var name in before.Keys.Where(k => k.StartsWith("conv.", StringComparison.Ordinal) || k.StartsWith("bn.", StringComparison.Ordinal)))
            Assert.True(Same(before[name], after[name]), $"{name} changed although frozen");
        Assert.Contains(before.Keys, k => k.StartsWith("bn.moving_mean", StringComparison.Ordinal));
        Assert.False(Same(before["head.weight"], after["head.weight"]), "the head did not train");
    }

    [Fact]
    public async Task NewHead_ForAnotherClassCount_StartsFresh_WhenRenamed_And400sWhenTheShapeDiffers()
    {
        var client = _factory.CreateClient();
        var first = await client.WaitForEndAsync((await client.SubmitAsync(Cnn(epochs: 1, frozen: false))).Id(), Patience);

        var wider = await client.PostAsync("/api/runs", Specs.Json(Cnn(1, true, $$"""{"run": "{{first.Id()}}"}""", filters: 8)));
        Assert.Equal(HttpStatusCode.BadRequest, wider.StatusCode);
        var problem = await wider.JsonAsync();
        var message = problem.GetProperty("errors").GetProperty("initial_weights")[0].GetString()!;
        Assert.Contains("layer 'conv'", message);
        Assert.Contains("[4, 1, 3, 3]", message);

        var missing = await client.PostAsync("/api/runs", Specs.Json(Cnn(1, true, $$"""{"run": "{{Guid.NewGuid()}}", "kind": "best"}""")));
        Assert.Contains("initial_weights.run", (await missing.JsonAsync()).ErrorKeys());
        var badKind = await client.PostAsync("/api/runs", Specs.Json(Cnn(1, true, $$"""{"run": "{{first.Id()}}", "kind": "latest"}""")));
        Assert.Contains("initial_weights.kind", (await badKind.JsonAsync()).ErrorKeys());

        // From the best epoch's state; a head for 5 classes under a new name starts fresh.
        var renamed = Cnn(1, true, $$"""{"run": "{{first.Id()}}", "kind": "best"}""", classes: 10).Replace("\"name\": \"head\"", "\"name\": \"head2\"");
        var ok = await client.SubmitAsync(renamed);
        Assert.Contains(ok.GetProperty("spec").GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("head2 starts fresh", StringComparison.Ordinal));
        Assert.Equal("succeeded", (await client.WaitForEndAsync(ok.Id(), Patience)).Status());
    }
}
