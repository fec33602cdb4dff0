using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>
/// A validated model definition with its compile and fit options: everything that can be checked without data
/// or training. <see cref="Parse"/> throws <see cref="SpecException"/> listing every error, each with a JSON path
/// prefixed by the section (<c>model.layers[2].units</c>, <c>compile.optimizer</c>, <c>fit.epochs</c>).
/// </summary>
public sealed partial class TrainingPlan
{
    public static TrainingPlan Parse(JsonElement model, JsonElement? compile, JsonElement? fit, EngineLimits? limits = null)
        => throw new NotImplementedException("engine in progress");

    public ModelSummary Summary => throw new NotImplementedException();
    public IReadOnlyList<string> InputNames => throw new NotImplementedException();
    public IReadOnlyList<int[]> InputShapes => throw new NotImplementedException();
    public IReadOnlyList<string> OutputNames => throw new NotImplementedException();
    public IReadOnlyList<int[]> OutputShapes => throw new NotImplementedException();
    public int Epochs => throw new NotImplementedException();
    public int BatchSize => throw new NotImplementedException();

    /// <summary>Checks that data of this signature fits the model and the loss. Returns errors (paths prefixed as in Parse).</summary>
    public IReadOnlyList<SpecError> CheckData(DataSignature data) => throw new NotImplementedException();
}
