using System.Text.Json;
using TrainingService.Training.Engine;

namespace TrainingService.Training.Tests.Support;

/// <summary>Builds plans from JSON text and from the run specs in examples/.</summary>
public static class SpecFiles
{
    public static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    public static TrainingPlan Plan(string model, string compile, string fit = "{}") =>
        TrainingPlan.Parse(Json(model), Json(compile), Json(fit));

    public static string RepoRoot
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "TrainingService.sln"))) dir = Path.GetDirectoryName(dir);
            return dir ?? throw new InvalidOperationException("repository root not found");
        }
    }

    /// <summary>The model/compile/fit sections of an example run spec, with fit overrides merged in.</summary>
    public static TrainingPlan Example(string file, string? fitOverrides = null)
    {
        var spec = Json(File.ReadAllText(Path.Combine(RepoRoot, "examples", file)));
        var fit = spec.GetProperty("fit");
        if (fitOverrides is not null)
        {
            var merged = System.Text.Json.Nodes.JsonNode.Parse(fit.GetRawText())!.AsObject();
            foreach (var (k, v) in System.Text.Json.Nodes.JsonNode.Parse(fitOverrides)!.AsObject()) merged[k] = v?.DeepClone();
            fit = Json(merged.ToJsonString());
        }
        return TrainingPlan.Parse(spec.GetProperty("model"), spec.GetProperty("compile"), fit);
    }
}
