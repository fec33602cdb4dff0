namespace TrainingService.Training.Engine;

/// <summary>Keras's <c>model.summary()</c> as data: one row per layer, then totals.</summary>
public sealed record ModelSummary(IReadOnlyList<LayerSummary> Layers, long TotalParameters, long TrainableParameters)
{
    /// <summary>Keras's "Non-trainable params": frozen layers' weights and statistics such as BatchNormalization's moving
    /// mean and variance.</summary>
    public long NonTrainableParameters => TotalParameters - TrainableParameters;
}

/// <summary>A layer's name, Keras type, output shape(s) without the batch dimension (-1 = variable) and parameter count.</summary>
public sealed record LayerSummary(string Name, string Type, IReadOnlyList<int[]> OutputShapes, long Parameters)
{
    /// <summary>False for a frozen layer (Keras's summary with <c>show_trainable=True</c>).</summary>
    public bool Trainable { get; init; } = true;
}
