using System.Text.Json.Serialization;

namespace TrainingService.Api.Serving;

// The Open Inference Protocol v2 (KServe, Triton, MLServer) REST objects, named as the specification names them.

/// <summary><c>$inference_error_response</c> (also the metadata errors, and TF Serving's error body).</summary>
public sealed record InferenceError(string Error);

/// <summary><c>$metadata_server_response</c>.</summary>
public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

/// <summary><c>$metadata_tensor</c>: -1 marks a variable dimension (the batch).</summary>
public sealed record TensorMetadata(string Name, string Datatype, long[] Shape);

/// <summary><c>$metadata_model_response</c>.</summary>
public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);

/// <summary><c>$inference_response</c>.</summary>
public sealed record InferResponse(string ModelName, string? ModelVersion, string? Id, IReadOnlyList<InferOutput> Outputs);

/// <summary><c>$response_output</c>: <see cref="Data"/> in JSON, or none and <c>binary_data_size</c> in
/// <see cref="Parameters"/> when the binary tensor data extension carries it after the JSON.</summary>
public sealed record InferOutput(string Name, long[] Shape, string Datatype, OutputParameters? Parameters, float[]? Data);

public sealed record OutputParameters(long BinaryDataSize);

/// <summary>TF Serving's <c>GET /v1/models/{name}</c>.</summary>
public sealed record TfModelStatus(IReadOnlyList<TfVersionStatus> ModelVersionStatus);

public sealed record TfVersionStatus(string Version, string State, TfStatus Status);

public sealed record TfStatus(string ErrorCode, string ErrorMessage);

/// <summary>Serialisation generated at build time: the serving responses, and the service's own predict answer (first in
/// the HTTP resolver chain, see Program), are written without reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(InferenceError))]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(InferResponse))]
[JsonSerializable(typeof(TfModelStatus))]
[JsonSerializable(typeof(Runs.PredictResponse))]
public sealed partial class ServingJson : JsonSerializerContext;
