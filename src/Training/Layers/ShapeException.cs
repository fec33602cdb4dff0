namespace TrainingService.Training.Layers;

/// <summary>A layer cannot take the shapes it is given. The message says what it expects, what it got,
/// and (where there is one) the fix; the model parser adds the layer's path and type.</summary>
public sealed class ShapeException(string message) : Exception(message);
