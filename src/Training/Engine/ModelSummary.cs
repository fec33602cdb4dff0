namespace TrainingService.Training.Engine;

/// <summary>Keras's <c>model.summary()</c> as data: one row per layer, then totals.</summary>
public sealed record ModelSummary(IReadOnlyList<LayerSummary> Layers, long TotalParameters, long TrainableParameters);

/// <summary>A layer's name, Keras type, output shape(s) without the batch dimension (-1 = variable) and parameter count.</summary>
public sealed record LayerSummary(string Name, string Type, IReadOnlyList<int[]> OutputShapes, long Parameters);
