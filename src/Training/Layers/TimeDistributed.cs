using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras TimeDistributed: applies <c>layer</c> (nested, e.g. <c>{"type": "Dense", "units": 8}</c>) to every
/// step of a (steps, …) input with the same weights, by folding the steps into the batch. The input mask passes
/// through unchanged.</summary>
public sealed record TimeDistributed : Layer
{
    [Key("layer")] public required NestedLayer Wrapped { get; init; }

    private Layer Inner => string.IsNullOrEmpty(Wrapped.Layer.Name) ? Wrapped.Layer with { Name = Name + "_inner" } : Wrapped.Layer;

    public override IEnumerable<SpecError> Validate(string path)
    {
        if (Wrapped.Layer.MinInputs > 1) yield return new SpecError($"{path}.layer", "TimeDistributed wraps a layer with one input");
        if (Wrapped.Layer is RecurrentConfig { ReturnState: true }) yield return new SpecError($"{path}.layer.return_state", "a wrapped layer must have one output");
    }

    public override bool KeepsMask => true;

    private static Shape StepShape(Shape x) => new(x.Dims[1..]);

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank < 2) throw Expects("an input with a time axis and at least one more axis (steps, …)", x, "add Reshape to (steps, features)");
        string? error = null;
        Shape[] inner = [];
        try { inner = Inner.OutputShapes([StepShape(x)]); }
        catch (ShapeException e) { error = e.Message; }
        if (error is not null) throw new ShapeException($"the wrapped {LayerRegistry.NameOf(Inner.GetType())}, applied to each step {StepShape(x)}, {error}");
        if (inner.Length != 1) throw new ShapeException($"expects the wrapped layer to give one output, got {inner.Length}");
        return [new Shape([x[0], .. inner[0].Dims])];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) => Inner.CountParameters([StepShape(inputs[0])]);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(Name, Inner.Build([StepShape(inputs[0])], context));

    private sealed class Module : UnaryModule
    {
        private readonly LayerModule layer;

        public Module(string name, LayerModule inner) : base(name)
        {
            layer = inner;
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var (batch, steps) = (input.shape[0], input.shape[1]);
            var mask = context.InputMask;
            context.InputMask = null;
            var folded = input.reshape([batch * steps, .. input.shape.Skip(2)]);
            var y = layer.Forward([folded], context)[0];
            context.InputMask = mask;
            context.OutputMask = mask;
            var output = y.reshape([batch, steps, .. y.shape.Skip(1)]);
            if (context.Logits.Remove(y, out var logits))
                context.Logits[output] = (logits.Logits.reshape(output.shape), logits.Activation);
            return output;
        }

        public override IEnumerable<Tensor> Penalties() => layer.Penalties();
    }
}
