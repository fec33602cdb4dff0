using System.Text.Json.Nodes;
using TrainingService.Training.Engine;

namespace TrainingService.Api.Keras;

/// <summary>A Keras document or .keras archive converted: the native definition (what a run's <c>model</c> takes),
/// the file's compile settings in native form, the layer summary, and every mapping that is not an exact copy.</summary>
public sealed record ConvertResponse(
    JsonObject Model,
    JsonObject? Compile,
    ModelSummary Summary,
    IReadOnlyList<string> Notes,
    string KerasVersion,
    KerasWeightsInfo? Weights);

/// <summary>The weights found in a .keras archive, converted to the engine's layout.</summary>
public sealed record KerasWeightsInfo(int Tensors, long Parameters);
