using System.Text.Json;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Layers;

/// <summary>What every layer with a kernel and a bias has (Dense and the convolutions): the activation, the bias
/// switch, the kernel/bias initializers, regularizers and constraints, as Keras's layers declare them.</summary>
public abstract record KernelLayer : Layer
{
    [ActivationName] public string? Activation { get; init; } = "linear";
    public bool UseBias { get; init; } = true;
    public Initializer KernelInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? KernelRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public JsonElement? KernelConstraint { get; init; }
    public JsonElement? BiasConstraint { get; init; }

    public override IEnumerable<SpecError> Validate(string path) => KernelErrors(path);

    /// <summary>The checks of the kernel/bias keys, for a subclass that replaces its parent's other checks.</summary>
    protected IEnumerable<SpecError> KernelErrors(string path) =>
        Constraints.RejectSet(path, ("kernel_constraint", KernelConstraint), ("bias_constraint", BiasConstraint));
}
