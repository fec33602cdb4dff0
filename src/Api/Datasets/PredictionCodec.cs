using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

/// <summary>The prediction-time half of the preprocessing stored with a run (<see cref="IPredictionCodec"/>).</summary>
public sealed class PredictionCodec(FittedPreprocessing fitted) : IPredictionCodec
{
    /// <summary>The codec of a run from its stored preprocessing (<c>runs.preprocessing_json</c>).</summary>
    public static IPredictionCodec FromJson(string preprocessingJson) => new PredictionCodec(FittedPreprocessing.FromJson(preprocessingJson));

    public ArrayDataset Encode(JsonElement instances) => new(fitted.PrepareInstances(instances), []);

    public ArrayDataset EncodeDense(IReadOnlyList<DenseInput> inputs, IReadOnlyList<string> paths) => new(fitted.PrepareDense(inputs, paths), []);

    public IReadOnlyList<FittedInput> Inputs => fitted.Inputs;

    public ArrayDataset EncodeImages(IReadOnlyList<byte[]> images)
    {
        try
        {
            return new ArrayDataset(fitted.PrepareImages(images), []);
        }
        catch (Exception e) when (e is not SpecException)
        {
            throw new SpecException("file", e.Message);
        }
    }

    public IReadOnlyList<JsonObject> Decode(IReadOnlyList<TorchSharp.torch.Tensor> outputs) =>
        fitted.Interpret(outputs).Select(p => p.Outputs.Count == 1 ? Node(p.Outputs[0]) : new JsonObject
        {
            ["outputs"] = new JsonObject(p.Outputs.Select(o => KeyValuePair.Create(o.Name, (JsonNode?)Node(o)))),
        }).ToList();

    private static JsonObject Node(TargetPrediction t) => t.ClassIndex is { } c
        ? new JsonObject
        {
            ["class"] = c,
            ["label"] = t.ClassName,
            ["probabilities"] = new JsonArray(t.Probabilities!.Select(v => (JsonNode?)JsonValue.Create(Math.Round(v, 6))).ToArray()),
        }
        : new JsonObject { ["values"] = new JsonArray(t.Values!.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()) };
}
