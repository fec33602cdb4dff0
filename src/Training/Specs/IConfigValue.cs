using System.Text.Json;

namespace TrainingService.Training.Specs;

/// <summary>A config value with its own JSON forms (initializers, regularizers, nested layers).</summary>
public interface IConfigValue<TSelf> where TSelf : class
{
    static abstract TSelf? ParseConfig(JsonElement value, string path, List<SpecError> errors);

    /// <summary>How the value is shown in the catalog and in exported configs.</summary>
    object Describe();
}
