using System.Text.Json;
using TrainingService.Training.Layers;
using TrainingService.Training.Models;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Engine;

/// <summary>
/// A validated model definition with its compile and fit options: everything that can be checked without data
/// or training. <see cref="Parse"/> throws <see cref="SpecException"/> listing every error, each with a JSON path
/// prefixed by the section (<c>model.layers[2].units</c>, <c>compile.optimizer</c>, <c>fit.epochs</c>).
/// </summary>
public sealed class TrainingPlan
{
    private TrainingPlan(ModelDefinition model, CompileOptions compile, FitOptions fit, IReadOnlyList<string> notes)
    {
        Model = model;
        Compile = compile;
        Fit = fit;
        Notes = notes;
        Summary = Summarize(model);
    }

    /// <summary>How the plan reads something the user may not expect (a fixed batch size taken as a hint).</summary>
    public IReadOnlyList<string> Notes { get; }

    public ModelDefinition Model { get; }
    public CompileOptions Compile { get; }
    public FitOptions Fit { get; }
    public ModelSummary Summary { get; }

    public IReadOnlyList<string> InputNames => Model.Inputs.Select(i => i.Name).ToArray();
    public IReadOnlyList<int[]> InputShapes => Model.Inputs.Select(i => i.Shape.Dims).ToArray();
    public IReadOnlyList<string> OutputNames => Model.OutputNames;
    public IReadOnlyList<int[]> OutputShapes => Model.OutputShapes.Select(s => s.Dims).ToArray();
    public int Epochs => Fit.Epochs;
    public int BatchSize => Fit.BatchSize;

    /// <summary>The plan of a whole run spec (its <c>model</c>, and its <c>compile</c> and <c>fit</c> when present), as
    /// the service stores it.</summary>
    public static TrainingPlan FromSpec(JsonElement spec, EngineLimits? limits = null) =>
        Parse(spec.GetProperty("model"), spec.TryGetProperty("compile", out var compile) ? compile : null,
            spec.TryGetProperty("fit", out var fit) ? fit : null, limits);

    public static TrainingPlan Parse(JsonElement model, JsonElement? compile, JsonElement? fit, EngineLimits? limits = null)
    {
        try
        {
            return ParseChecked(model, compile, fit, limits ?? new EngineLimits());
        }
        catch (InvalidOperationException e) when (e.Source == "System.Text.Json")
        {
            // The parsers check each value's JSON type before reading it; one that slipped through (a number where a
            // name was read as a string) is still the request's fault, so it is answered as one more error (400), not
            // a 500. The fuzz suite (tests/Api.Tests/Fuzz) looks for such places; each found is fixed where it is.
            throw new SpecException("model", $"a value has an unexpected JSON type: {e.Message}");
        }
    }

    private static TrainingPlan ParseChecked(JsonElement model, JsonElement? compile, JsonElement? fit, EngineLimits limits)
    {
        var errors = new List<SpecError>();
        var definition = ModelParser.Parse(model, "model", limits, errors);
        CompileOptions? compileOptions = null;
        if (definition is not null)
        {
            compileOptions = CompileParser.Parse(compile, "compile", definition.OutputNames,
                definition.OutputShapes.Select(s => s.Dims).ToArray(), errors);
        }
        var fitOptions = FitParser.Parse(fit, "fit", limits, errors);
        if (compileOptions is not null && fitOptions is not null)
            errors.AddRange(fitOptions.CheckCallbacks(compileOptions, hasValidation: fitOptions.ValidationSplit > 0));
        if (errors.Count > 0 || definition is null || compileOptions is null || fitOptions is null)
            throw new SpecException(errors.Count > 0 ? errors : [new SpecError("model", "is invalid")]);
        var notes = new List<string>();
        if (definition.BatchSize is { } hint)
        {
            var given = fit is { ValueKind: JsonValueKind.Object } f && f.TryGetProperty("batch_size", out var b) && b.ValueKind != JsonValueKind.Null;
            if (!given && hint <= limits.MaxBatchSize) fitOptions = fitOptions with { BatchSize = hint };
            notes.Add(given || hint > limits.MaxBatchSize
                ? $"the model's input declares a fixed batch size of {hint}; fit.batch_size {fitOptions.BatchSize} is used instead (the batch axis is not fixed here)"
                : $"the model's input declares a fixed batch size of {hint}: it is used as fit.batch_size; when the examples are not a multiple of {hint}, each epoch's last batch holds the rest and is trained on as it is (as Keras's fit does: not dropped, not padded), and evaluation and prediction batches may be smaller too");
        }
        return new TrainingPlan(definition, compileOptions, fitOptions, notes);
    }

    /// <summary>Checks that data of this signature fits the model and the loss.</summary>
    public IReadOnlyList<SpecError> CheckData(DataSignature data)
    {
        var errors = new List<SpecError>();
        if (data.Inputs.Count != Model.Inputs.Count)
            errors.Add(new SpecError("model.inputs", $"the model has {Model.Inputs.Count} input(s) but the dataset gives {data.Inputs.Count}"));
        for (var i = 0; i < Math.Min(data.Inputs.Count, Model.Inputs.Count); i++)
        {
            var want = Model.Inputs[i];
            var got = data.Inputs[i];
            var path = Model.IsSequential ? "model.input_shape" : $"model.inputs[{i}].shape";
            if (!Compatible(want.Shape.Dims, got.Shape))
                errors.Add(new SpecError(path, $"the model expects examples of shape {want.Shape} but the dataset gives {new Shape(got.Shape)}; set the dataset's preprocessing.reshape or change the input shape"));
            else if (want.IsInteger && !got.IsInteger)
                errors.Add(new SpecError(path, $"input '{want.Name}' feeds an Embedding, which needs integer indices, but the dataset gives real numbers"));
        }
        errors.AddRange(Compile.CheckTargets(OutputShapes, data.Targets, "compile.loss"));
        return errors;
    }

    private static bool Compatible(int[] model, int[] data) =>
        model.Length == data.Length && model.Zip(data).All(p => p.First < 0 || p.First == p.Second);

    /// <summary>The layer table (output shapes, parameter counts) of a definition, as Keras's model.summary() lists it.</summary>
    public static ModelSummary Summarize(ModelDefinition model)
    {
        var rows = new List<LayerSummary>();
        long total = 0, trainable = 0;
        foreach (var input in model.Inputs) rows.Add(new LayerSummary(input.Name, "InputLayer", [input.Shape.Dims], 0));
        foreach (var node in model.Layers)
        {
            var (t, nt) = node.Layer.ParameterCounts(node.InputShapes);
            total += t + nt;
            trainable += t;
            rows.Add(new LayerSummary(node.Name, LayerRegistry.NameOf(node.Layer.GetType()), node.OutputShapes.Select(s => s.Dims).ToArray(), t + nt)
            {
                Trainable = node.Layer.Trainable,
            });
        }
        return new ModelSummary(rows, total, trainable);
    }
}
