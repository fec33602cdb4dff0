using TrainingService.Api.Models;
using static TorchSharp.torch;

namespace TrainingService.Api.Serving;

/// <summary>One model output as the serving protocols return it: the tensor's own values (float32, row-major), not the
/// service's decoded classes, named as the model names its outputs.</summary>
public sealed record RawOutput(string Name, long[] Shape, float[] Values);

public static class RawOutputs
{
    /// <summary>Copies the outputs out of libtorch (they are disposed after the request's decode step).</summary>
    public static IReadOnlyList<RawOutput> Read(LoadedModel model, IReadOnlyList<Tensor> outputs)
    {
        var names = model.Plan.OutputNames;
        var result = new RawOutput[outputs.Count];
        for (var k = 0; k < outputs.Count; k++)
        {
            using var values = outputs[k].to_type(ScalarType.Float32).contiguous();
            result[k] = new RawOutput(k < names.Count ? names[k] : $"output_{k}", values.shape, values.data<float>().ToArray());
        }
        return result;
    }
}
