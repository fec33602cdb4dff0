using TrainingService.Training.Activations;
using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Dense: <c>activation(x · kernel + bias)</c> on the last axis.</summary>
public sealed record Dense : Layer
{
    [Range(1)] public required int Units { get; init; }
    [ActivationName] public string? Activation { get; init; } = "linear";
    public bool UseBias { get; init; } = true;
    public Initializer KernelInitializer { get; init; } = Initializer.Named("glorot_uniform");
    public Initializer BiasInitializer { get; init; } = Initializer.Named("zeros");
    public Regularizer? KernelRegularizer { get; init; }
    public Regularizer? BiasRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public System.Text.Json.JsonElement? KernelConstraint { get; init; }
    public System.Text.Json.JsonElement? BiasConstraint { get; init; }

    public override bool KeepsMask => true;

    public override IEnumerable<SpecError> Validate(string path) => Constraints.RejectSet(path, ("kernel_constraint", KernelConstraint), ("bias_constraint", BiasConstraint));

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        // Keras applies Dense to the last axis of any input. On a sequence (steps, features) that is the usual
        // per-step projection; on an image-shaped input it is nearly always a missing Flatten, so we say so.
        if (x.Rank > 2) throw Expects("a 1-D input (or a 2-D sequence)", x, "add Flatten or a global pooling layer before it");
        if (x.Last < 0) throw Expects("a known last dimension", x);
        return [x.With(-1, Units)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)inputs[0].Last * Units + (UseBias ? Units : 0), 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new DenseModule(this, inputs[0].Last, context);
}

internal sealed class DenseModule : UnaryModule
{
    private readonly TorchSharp.Modules.Parameter weight;
    private readonly TorchSharp.Modules.Parameter? bias;
    private readonly Dense _config;
    private readonly Func<Tensor, Tensor> _activation;

    public DenseModule(Dense config, int inputDim, BuildContext context) : base(config.Name)
    {
        _config = config;
        _activation = ActivationRegistry.Get(config.Activation);
        using var kernel = config.KernelInitializer.Create([inputDim, config.Units], context.Rng);
        using var torchLayout = kernel.t(); // a view: disposed here, or it keeps the kernel alive
        weight = new TorchSharp.Modules.Parameter(torchLayout.contiguous());
        if (config.UseBias) bias = new TorchSharp.Modules.Parameter(config.BiasInitializer.Create([config.Units], context.Rng));
        RegisterComponents();
    }

    public override Tensor Forward(Tensor input, ForwardContext context)
    {
        var z = nn.functional.linear(input, weight, bias);
        return Activate(z, _config.Activation, _activation, _config.ActivityRegularizer, context);
    }

    public override IEnumerable<Tensor> Penalties()
    {
        if (_config.KernelRegularizer is not null) yield return _config.KernelRegularizer.Penalty(weight);
        if (_config.BiasRegularizer is not null && bias is not null) yield return _config.BiasRegularizer.Penalty(bias);
    }
}
