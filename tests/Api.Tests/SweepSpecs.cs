using System.Net.Http.Json;
using System.Text.Json;

namespace TrainingService.Api.Tests;

/// <summary>Small sweeps on the bundled iris set, and helpers for following them.</summary>
public static class SweepSpecs
{
    /// <summary>A cross-validated run on the bundled iris set.</summary>
    public static string IrisCrossValidation(string crossValidation, string? name = "iris-cv", int epochs = 6) => $$$"""
        {
          "name": {{{(name is null ? "null" : $"\"{name}\"")}}},
          "dataset": {"name": "iris", "preprocessing": {"standardize": true, "test_fraction": 0.2, "stratify": true, "seed": 3}},
          "model": {"input_shape": [4], "layers": [{"type": "Dense", "units": 16, "activation": "relu"},
                                                   {"type": "Dense", "units": 3, "activation": "softmax"}]},
          "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.02}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
          "fit": {"epochs": {{{epochs}}}, "batch_size": 16, "seed": 1},
          "cross_validation": {{{crossValidation}}}
        }
        """;

    public static string IrisBase(int epochs = 3, double validationSplit = 0.25, int batchSize = 16) => $$$"""
        {
          "dataset": {"name": "iris", "preprocessing": {"standardize": true, "test_fraction": 0.2, "stratify": true, "seed": 3}},
          "model": {"input_shape": [4], "layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                                                   {"type": "Dropout", "rate": 0.1},
                                                   {"type": "Dense", "units": 3, "activation": "softmax"}]},
          "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
          "fit": {"epochs": {{{epochs}}}, "batch_size": {{{batchSize}}}, "validation_split": {{{validationSplit}}}, "seed": 1}
        }
        """;

    public static async Task<JsonElement> SubmitSweepAsync(this HttpClient client, string body)
    {
        var response = await client.PostAsync("/api/sweeps", Specs.Json(body));
        var json = await response.JsonAsync();
        if ((int)response.StatusCode != 202) throw new Xunit.Sdk.XunitException($"sweep submission answered {(int)response.StatusCode}: {json}");
        return json;
    }

    public static async Task<JsonElement> GetSweepAsync(this HttpClient client, Guid id) =>
        await (await client.GetAsync($"/api/sweeps/{id}")).JsonAsync();

    public static async Task<JsonElement> WaitForSweepAsync(this HttpClient client, Guid id, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        JsonElement sweep;
        do
        {
            sweep = await client.GetSweepAsync(id);
            if (done(sweep)) return sweep;
            await Task.Delay(100);
        } while (DateTime.UtcNow < until);
        throw new Xunit.Sdk.XunitException($"sweep {id} did not get there within {timeout}: {sweep}");
    }

    public static Task<JsonElement> WaitForSweepEndAsync(this HttpClient client, Guid id, TimeSpan timeout) =>
        client.WaitForSweepAsync(id, s => s.Status() is "succeeded" or "failed" or "cancelled", timeout);

    public static List<JsonElement> Trials(this JsonElement sweep) => sweep.GetProperty("trials").EnumerateArray().ToList();
}
