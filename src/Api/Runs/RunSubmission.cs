using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TrainingService.Api.CrossValidation;
using TrainingService.Api.Datasets;
using TrainingService.Api.Infrastructure;
using TrainingService.Persistence;
using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;
using TrainingService.Training.Keras;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Runs;

/// <summary>
/// Turns a submitted body into a run that can be trained, or into the complete list of what is wrong with it.
/// Everything that can be checked without training is checked here (JSON, names, the model's shapes and limits,
/// the dataset choice and whether the data fits the model), so a refused request writes and queues nothing.
/// </summary>
public sealed class RunSubmission(IDatasets datasets, IOptions<TrainingOptions> training, TimeProvider clock, TrainingDbContext db)
{
    private static readonly string[] TopLevel = ["name", "dataset", "model", "compile", "fit", CrossValidationSpec.Key, InitialWeightsSpec.Key];

    /// <summary>Validates <paramref name="body"/>; on success returns a new queued run (not yet saved). The model is
    /// native, or a Keras document (converted here, its compile settings used when the body gives none), or comes
    /// from <paramref name="archive"/> (an uploaded .keras file; then the body has no model).</summary>
    public (Run? Run, ValidationErrors Errors) Validate(byte[] body, KerasArchiveImport? archive = null)
    {
        var errors = new ValidationErrors();
        JsonElement root;
        try
        {
            using var doc = StrictJson.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            errors.Add("$", $"The body is not valid JSON: {e.Message}");
            return (null, errors);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", $"Expected a JSON object with {string.Join(", ", TopLevel)}; got {root.ValueKind.ToString().ToLowerInvariant()}.");
            return (null, errors);
        }

        foreach (var p in root.EnumerateObject())
        {
            if (!TopLevel.Contains(p.Name))
                errors.Add(p.Name, $"Unknown property '{p.Name}'. Accepted: {string.Join(", ", TopLevel)}.");
        }

        string? name = null;
        if (root.TryGetProperty("name", out var nameElement) && nameElement.ValueKind != JsonValueKind.Null)
        {
            if (nameElement.ValueKind != JsonValueKind.String)
                errors.Add("name", "Expected a string.");
            else if (!SubmittedWork.IsValidName(name = nameElement.GetString()!))
                errors.Add("name", $"'{name}' is not a valid model name: use {SubmittedWork.NameRule}.");
        }

        var dataset = Section(root, "dataset", required: true, errors);
        var model = Section(root, "model", required: archive is null, errors);
        var compile = Section(root, "compile", required: false, errors);
        var fit = Section(root, "fit", required: false, errors);

        var keras = archive?.Conversion;
        if (archive is not null && model is not null)
            errors.Add("model", "The model comes from the uploaded .keras file; leave 'model' out of the spec.");
        else if (keras is null && model is { } k && KerasImporter.IsKerasDocument(k))
        {
            try
            {
                keras = KerasImporter.Convert(k, "model", limits: training.Value.Limits);
            }
            catch (SpecException e)
            {
                errors.AddRange(e.Errors);
                model = null;
            }
        }
        if (keras is not null)
        {
            model = JsonSerializer.SerializeToElement(keras.Model);
            if (compile is null && keras.Compile is not null) compile = JsonSerializer.SerializeToElement(keras.Compile);
        }

        DataSignature? signature = null;
        if (dataset is { } d)
        {
            var check = datasets.Check(d);
            errors.AddRange(check.Errors);
            signature = check.Signature;
        }

        TrainingPlan? plan = null;
        if (model is { } m)
        {
            try
            {
                plan = TrainingPlan.Parse(m, compile, fit, training.Value.Limits);
            }
            catch (SpecException e)
            {
                errors.AddRange(e.Errors);
            }
        }

        if (plan is not null && signature is not null)
            errors.AddRange(keras is null ? plan.CheckData(signature) : keras.ToKerasPaths(plan.CheckData(signature)));

        // A cross-validated run is checked here with the rest of its spec; its folds become child runs later (see CrossValidationService).
        CrossValidationSpec? cv = null;
        if (root.TryGetProperty(CrossValidationSpec.Key, out var cvElement) && cvElement.ValueKind != JsonValueKind.Null)
            cv = CrossValidationSpec.Parse(cvElement, signature, name, errors);

        // Transfer learning: another run's weights as the starting point (checked now; read again when training starts).
        InitialWeightsSpec? initial = null;
        string? initialNote = null;
        if (root.TryGetProperty(InitialWeightsSpec.Key, out var iwElement) && iwElement.ValueKind != JsonValueKind.Null)
        {
            initial = InitialWeightsSpec.Parse(iwElement, errors);
            if (initial is not null && archive is not null)
                errors.Add(InitialWeightsSpec.Key, "The run starts from the uploaded .keras archive's weights; give either the archive or 'initial_weights', not both.");
            else if (initial is not null && plan is not null)
                initialNote = initial.Check(db, plan, errors);
        }

        if (!errors.IsEmpty || plan is null) return (null, errors);

        var spec = new JsonObject { ["dataset"] = JsonNode.Parse(dataset!.Value.GetRawText()), ["model"] = JsonNode.Parse(model!.Value.GetRawText()) };
        if (compile is { } c) spec["compile"] = JsonNode.Parse(c.GetRawText());
        if (fit is { } f) spec["fit"] = JsonNode.Parse(f.GetRawText());
        if (cv is not null) spec[CrossValidationSpec.Key] = cv.ToNode();
        if (initial is not null) spec[InitialWeightsSpec.Key] = initial.ToNode();
        var notes = initialNote is null ? plan.Notes : [.. plan.Notes, initialNote];
        if (notes.Count > 0) spec["notes"] = new JsonArray(notes.Select(n => (JsonNode?)n).ToArray());
        if (keras is not null)
        {
            spec["keras"] = new JsonObject
            {
                ["source"] = archive is null ? "json" : archive.Format,
                ["keras_version"] = keras.Version.Text,
                ["initial_weights"] = archive?.Weights is not null,
                ["notes"] = new JsonArray(keras.Notes.Select(n => (JsonNode?)n).ToArray()),
            };
        }

        var run = new Run
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Status = RunStatus.Queued,
            CreatedAt = clock.GetUtcNow(),
            EpochsPlanned = plan.Epochs,
            SpecJson = spec.ToJsonString(),
            SummaryJson = JsonSerializer.Serialize(plan.Summary, Json.Options),
        };
        if (cv is not null) CrossValidationRuns.Accept(run, cv);
        return (run, errors);
    }

    public static string Hash(byte[] body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>Reads uploaded Keras model files (.keras, legacy .h5, TF.js, or weights beside an architecture) with their
    /// weights; throws <see cref="SpecException"/> with paths under <c>model</c>.</summary>
    public KerasArchiveImport ImportArchive(IReadOnlyList<KerasUpload> files, JsonElement? architecture = null) =>
        KerasFiles.Import(files, architecture, "model", training.Value.Limits);

    private static JsonElement? Section(JsonElement root, string name, bool required, ValidationErrors errors)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) errors.Add(name, $"'{name}' is required.");
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(name, $"Expected an object; got {value.ValueKind.ToString().ToLowerInvariant()}.");
            return null;
        }
        return value;
    }
}
